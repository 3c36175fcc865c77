"""Review of srnet.xnet's estimators and training loop: defects found, each pinned by a test."""

import numpy as np
import pytest
import torch

from srnet.xnet import XNetClassifier, XNetRegressor
from srnet.xnet.constants import forest_loss
from srnet.xnet.estimators import _XNetBase
from srnet.xnet.forward import Plan
from srnet.xnet.train import _recentre, polish
from srnet.xnet.tree import linear_tree

FAST = {"max_seconds": None, "max_iterations": 3, "simplify_seconds": 0, "random_state": 0}


@pytest.mark.parametrize("seed", range(3))
def test_recentring_softmax_logits_never_raises_the_loss(seed):
    """The cross-entropy ignores a common shift of the logits, but the penalty on their mean square does not:
    centring the roots' biases raised a polished forest's loss by 2 % (0.1516 -> 0.1548)."""
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.uniform(0, 3, (80, 2)))
    Y = torch.as_tensor(np.digitize(X[:, 0].numpy(), [1, 2]))
    roots = [linear_tree(np.random.default_rng(seed + k), 2) for k in range(3)]
    for root in roots:
        root.bias += 3.0
    polish(roots, X, Y, "softmax", 100)
    plan = Plan.of(roots)
    before = forest_loss(plan, X, Y, "softmax", *plan.parameters(X.dtype, X.device))
    _recentre(roots, X)
    after = forest_loss(plan, X, Y, "softmax", *plan.parameters(X.dtype, X.device))
    assert after <= before + 1e-12
    with torch.no_grad():  # the logits' mean over the rows is 0: the penalty's least for any shift
        assert abs(float(plan.predict(X, *plan.parameters(X.dtype, X.device)).mean())) < 1e-9


def test_a_validation_fraction_near_one_holds_out_all_it_can():
    """0.97 of 60 rows held out 58, but 0.99 held out none (it left one row to train on), silently; the
    stratified split, which keeps a row of each class anyway, held out none at 0.99 either."""
    rows, valid = _XNetBase._split(60, 0.99, None, np.random.default_rng(0))
    assert len(rows) == 3 and len(valid) == 57  # (a regressor keeps the 3 rows it needs to fit)
    labels = np.array([0] * 30 + [1] * 29 + [2])
    rows, valid = _XNetBase._split(60, 0.99, labels, np.random.default_rng(0))
    assert sorted(labels[rows].tolist()) == [0, 1, 2] and len(valid) == 57
    assert _XNetBase._split(2, 0.5, None, np.random.default_rng(0)) == (None, None)  # 2 rows: none to spare
    # 3 rows: a regressor holds none out (it fitted 2, which a*f + b meets exactly: R2 -1.5 on the rest)
    assert _XNetBase._split(3, 0.2, None, np.random.default_rng(0)) == (None, None)
    assert len(_XNetBase._split(4, 0.25, None, np.random.default_rng(0))[0]) == 3
    X = np.random.default_rng(0).normal(size=(60, 2))
    model = XNetRegressor(**FAST, validation_fraction=0.99).fit(X, X[:, 0] * X[:, 1])
    assert np.all(np.isfinite(model.predict(X)))


@pytest.mark.parametrize("labels, message", [
    (np.array(["a", None, "a", None, "b", "a"], dtype=object),  # a None is a missing label, said so
     r"^class labels are missing \(None, NaN or NA\) on 2 rows, first row 1; drop those rows or give them a class$"),
    (np.array(["a", 1, "a", 1, "b", "a"], dtype=object), "y's labels must be of one sortable kind; got int, str$"),
    # a number first: scikit-learn's check answered "Unknown label type: unknown" (a scikit-learn user's review)
    (np.array([1, "a", "b", 1, "a", "b"], dtype=object), "y's labels must be of one sortable kind; got int, str$"),
    (np.zeros(6, dtype=int), r"^y has only one class \(0\); a classifier needs at least 2$"),  # not (np.int64(0))
])
def test_labels_that_cannot_be_classes_are_one_clear_error(labels, message):
    """Labels of mixed kinds raised numpy's TypeError "'<' not supported between instances of 'int' and
    'str'"."""
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ValueError, match=message):
        XNetClassifier(**FAST).fit(X, labels)


def test_a_softmax_classifiers_logits_are_centred_on_its_training_rows():
    """The returned forest is recentred after its polish: its logits' mean over the training rows is 0, where
    the penalty on their mean square is least (the biases' mean was 0 instead, with logits of mean 3.3)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 3, (90, 2))
    y = np.digitize(X[:, 0] + 0.3 * rng.normal(size=90), [1, 2])
    model = XNetClassifier(**{**FAST, "max_iterations": 10}, validation_fraction=0).fit(X, y)
    assert abs(model.decision_function(X).mean()) < 1e-6
