"""What every explainer of a trained network shares: the fit/predict contract and its checks.

An explainer approximates a network it can only query.  The network enters as
a plain function ``predict(X) -> outputs`` on float64 arrays, so the explainers
know nothing of torch; whoever holds the network wraps it.  For classification
the network's outputs are class probabilities and an explainer approximates
all of them at once, so that the argmax of its scores is its predicted class.

:class:`Explainer` validates the points and the network's outputs once, labels
the training (and validation) points with the network, and hands clean
``(n, n_outputs)`` arrays to the subclass; :class:`LocalLinearExplainer` adds
what local surrogates such as LIME and MAPLE share: one linear model per query
point, evaluated at that point to predict.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from srnet.data import TASKS, check_matrix, counted, random_generator
from srnet.names import check_columns, input_names

Network = Callable[[np.ndarray], np.ndarray]


def as_network_function(predict):
    """``predict`` as the function explainers query: a torch module, or a scikit-learn MLP srnet converts, wrapped
    in :class:`srnet.explain.network.NetworkFunction` (given the module itself, every explainer failed inside
    torch: a numpy array passed to Linear); any other callable as it is."""
    from torch import nn

    from srnet.explain.network import NetworkFunction
    from srnet.networks import _sklearn_kind, as_network

    if isinstance(predict, nn.Module) or _sklearn_kind(predict) is not None:
        return NetworkFunction(as_network(predict))
    return predict


def as_points(X, name: str = "X") -> np.ndarray:
    """``X`` as a non-empty, finite float64 array of shape (n_samples, n_features): srnet's one check of a
    data matrix (:func:`srnet.data.check_matrix`; a complex X was cut to its real part here, and a masked
    one read with its hidden values).

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, is empty, holds NaN or inf, or is not real numbers.
    """
    return check_matrix(X, name)


def network_outputs(predict: Network, X: np.ndarray, task: str, n_outputs: int | None = None) -> np.ndarray:
    """Call the network on ``X`` and check that its outputs fit ``task``.

    Parameters
    ----------
    predict : callable
        The network: (n, n_features) float64 -> (n,) for regression,
        (n, n_classes) class probabilities for classification.
    X : ndarray of shape (n, n_features)
    task : {"regression", "classification"}
    n_outputs : int or None
        Number of outputs the network had when the explainer was fitted
        (1 for regression, n_classes for classification); None skips the check.

    Returns
    -------
    ndarray of shape (n,) for regression, (n, n_classes) for classification
        As float64.  A regression network's (n, 1) column is flattened.

    Raises
    ------
    ValueError
        If the outputs have the wrong number of rows, a shape that belongs to
        the other task, a different number of classes than at fit, or NaN/inf.
    """
    Y = np.asarray(predict(X), dtype=np.float64)
    if Y.ndim == 0 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"the network returned shape {Y.shape} for {X.shape[0]} points")
    if task == "regression":
        if Y.ndim == 2 and Y.shape[1] == 1:
            Y = Y[:, 0]
        elif Y.ndim == 2:
            raise ValueError(f"the network returned {Y.shape[1]} outputs (shape {Y.shape}); explainers compare "
                             f"one regression output at a time: explain each as its own function (the network's "
                             f"column j), or use task='classification' for class probabilities")
        elif Y.ndim != 1:
            raise ValueError(f"a regression network must return shape (n,); it returned {Y.shape}")
    elif Y.ndim != 2 or Y.shape[1] < 2:
        raise ValueError(f"task='classification' needs class probabilities of shape (n, n_classes >= 2); "
                         f"the network returned {Y.shape} (use task='regression' for one output)")
    elif n_outputs is not None and Y.shape[1] != n_outputs:
        raise ValueError(f"the network returned {Y.shape[1]} classes but the explainer was fitted on {n_outputs}")
    if not np.isfinite(Y).all():
        raise ValueError("the network returned NaN or inf")
    return Y


def check_task(network, task: str) -> None:
    """Refuse a ``task`` other than a NetworkFunction's own, read from its head (a bare function has none):
    a logits-only classifier's raw logits were read as class probabilities.  Explainers and
    :func:`srnet.compare.compare` alike."""
    network_task = getattr(network, "task", task)
    if network_task != task:
        head = "a softmax head" if network_task == "classification" else "no softmax head"
        raise ValueError(f"the network is a {network_task} network ({head}), but task={task!r} was asked; "
                         f"pass task={network_task!r}" + ("" if network_task == "classification" else
                                                          ", or end a classifier in nn.Softmax"))


class Explainer(BaseEstimator, ABC):
    """Base of every explainer: learn to imitate a network from its answers.

    Subclasses store their parameters in ``__init__`` (scikit-learn style),
    implement :meth:`_fit` and :meth:`_predict` on validated arrays, and set
    ``size_`` in :meth:`_fit`.

    Attributes
    ----------
    name : str
        Short name of the method (``"lime"``, ``"maple"``, ...), a class attribute.
    n_features_in_ : int
        Number of input features seen at fit.
    feature_names_in_ : ndarray of str
        The inputs' names (a DataFrame's columns, else the model's), when
        known: a DataFrame given to ``predict`` must have these columns, in
        this order.
    task_ : {"regression", "classification"}
    n_outputs_ : int
        1 for regression, the number of classes for classification.
    size_ : int
        Size of one explanation: for local linear surrogates the number of
        local coefficients, intercepts included, summed over outputs; for
        formulas the nodes of the formulas as read, constants rounded
        (their ``readable_formulas_``).  What the fidelity comparison sets against
        accuracy.
    """

    name: ClassVar[str]

    def fit(self, predict: Network, X_train, *, X_valid=None, task: str = "regression", random_state=None):
        """Learn to imitate the network ``predict``.

        Parameters
        ----------
        predict : callable
            The network: (n, n_features) float64 -> (n,) for regression or
            (n, n_classes) class probabilities for classification.
        X_train : array-like of shape (n_train, n_features)
            Points the explainer may learn from; the network labels them.
        X_valid : array-like of shape (n_valid, n_features) or None
            Extra points, labelled by the network, for model selection.  An
            explainer that needs them and gets None holds out part of X_train.
        task : {"regression", "classification"}, default "regression"
        random_state : int, numpy Generator or None
            Seeds every random choice of the explainer.

        Returns
        -------
        self
        """
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
        # a DataFrame's columns, in the order the model was fitted on (explained in another order, MAPLE fitted
        # and predicted another function, in silence, where SRNet refuses it)
        names = input_names(X_train, predict)
        predict = as_network_function(predict)
        check_task(predict, task)
        X_train = as_points(X_train, "X_train")
        if len(X_train) < 2:  # cgp_direct, xnet and lime fitted one row: a constant, or a neighbourhood of nothing
            raise ValueError("X_train has 1 row: an explainer learns from 2 rows or more, labelled by the network")
        Y_train = network_outputs(predict, X_train, task)
        n_features = X_train.shape[1]
        n_outputs = 1 if task == "regression" else Y_train.shape[1]
        Y_valid = None
        if X_valid is not None:
            X_valid = as_points(X_valid, "X_valid")
            if X_valid.shape[1] != n_features:
                raise ValueError(f"X_valid has {counted(X_valid.shape[1], 'column')} but X_train has {n_features}")
            Y_valid = network_outputs(predict, X_valid, task, n_outputs).reshape(len(X_valid), n_outputs)
        rng = random_generator(random_state)
        # _fit reads these; a fit that fails (a bad setting) takes them back: a new explainer passed for fitted (an
        # AttributeError at predict), a fitted one kept its old model under the failed fit's task and width
        fitted = {"n_features_in_": n_features, "task_": task, "n_outputs_": n_outputs,
                  "feature_names_in_": None if names is None else np.array(names, dtype=object)}
        previous = {key: vars(self)[key] for key in fitted if key in vars(self)}
        vars(self).update(fitted)
        if names is None:  # (scikit-learn's convention: the attribute only when the inputs are named)
            del self.feature_names_in_
        try:
            self._fit(predict, X_train, Y_train.reshape(len(X_train), n_outputs), X_valid, Y_valid, rng)
        except BaseException:
            for key in fitted:
                vars(self).pop(key, None)
            vars(self).update(previous)
            raise
        return self

    def predict(self, X) -> np.ndarray:
        """The explainer's approximation of the network at each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n, n_features)

        Returns
        -------
        ndarray of shape (n,) for regression, (n, n_classes) for classification
            For classification, scores whose argmax is the predicted class.
        """
        return self._unstack(self._predict(self._check_query(X)))

    def predict_at_and_around(self, X, nearby) -> tuple[np.ndarray, np.ndarray]:
        """Predictions at ``X``, and at each ``nearby[i]`` with what was learnt about ``X[i]``.

        A global explainer has one model for everywhere, so this is
        ``(predict(X), predict(nearby))``; local surrogates override it to
        evaluate the local model built at each ``X[i]`` both there and at the
        nearby point (one set of local models serves both), which is how an
        explanation's fidelity *around* a point is measured
        (:func:`srnet.compare.compare_explainers`).

        Parameters
        ----------
        X, nearby : array-like of shape (n, n_features)

        Returns
        -------
        at, around : ndarrays shaped like :meth:`predict`'s
        """
        X, nearby = self._check_query(X), self._check_query(nearby)
        if len(X) != len(nearby):
            raise ValueError(f"{len(X)} points for {len(nearby)} nearby points")
        return self.predict(X), self.predict(nearby)

    def _check_query(self, X) -> np.ndarray:
        """Points to explain, checked against what the explainer was fitted on."""
        check_is_fitted(self)
        check_columns(getattr(X, "columns", None), getattr(self, "feature_names_in_", None),
                      "those the explainer was fitted on")
        X = as_points(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {counted(X.shape[1], 'column')} but the explainer was fitted on "
                             f"{self.n_features_in_}")
        return X

    def _unstack(self, Y: np.ndarray) -> np.ndarray:
        """Drop the outputs axis (axis 1) of per-point arrays for regression."""
        return Y[:, 0] if self.task_ == "regression" else Y

    @abstractmethod
    def _fit(self, predict: Network, X_train: np.ndarray, Y_train: np.ndarray, X_valid: np.ndarray | None,
             Y_valid: np.ndarray | None, rng: np.random.Generator) -> None:
        """Fit on validated data; ``Y_*`` have shape (n, n_outputs_).

        ``predict`` is the raw network; explainers that query it later wrap it
        with :func:`network_outputs` to keep its outputs checked.
        """

    @abstractmethod
    def _predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions of shape (n, n_outputs_) at validated points."""


class LocalLinearExplainer(Explainer):
    """A local surrogate: around each query point, one linear model per output.

    Predicting at a point evaluates the point's own local model there, which
    is how the SRNet paper compared LIME and MAPLE with global formulas.
    """

    def local_models(self, X) -> tuple[np.ndarray, np.ndarray]:
        """The local linear model around each row of ``X``, in raw feature units.

        Parameters
        ----------
        X : array-like of shape (n, n_features)

        Returns
        -------
        intercepts : ndarray of shape (n,) or (n, n_classes)
        coefs : ndarray of shape (n, n_features) or (n, n_classes, n_features)
            Row ``i``'s model predicts ``intercepts[i] + coefs[i] @ z`` at any
            point ``z``; features the explainer left out have coefficient 0.
        """
        intercepts, coefs = self._local_models(self._check_query(X))
        return self._unstack(intercepts), self._unstack(coefs)

    def local_model(self, x) -> tuple[float | np.ndarray, np.ndarray]:
        """The local linear model around one point ``x`` of shape (n_features,).

        Returns ``(intercept, coefs)``: a float and (n_features,) for regression,
        (n_classes,) and (n_classes, n_features) for classification.  Evaluate
        it anywhere, e.g. across a box for a plot.
        """
        intercepts, coefs = self.local_models(np.reshape(x, (1, -1)))
        intercept = intercepts[0]
        return (float(intercept) if self.task_ == "regression" else intercept), coefs[0]

    def _predict(self, X: np.ndarray) -> np.ndarray:
        intercepts, coefs = self._local_models(X)
        return intercepts + np.einsum("nmd,nd->nm", coefs, X)

    def predict_at_and_around(self, X, nearby) -> tuple[np.ndarray, np.ndarray]:
        """The local model of each row of ``X`` evaluated there (``predict(X)``)
        and at the matching row of ``nearby``."""
        X, nearby = self._check_query(X), self._check_query(nearby)
        if len(X) != len(nearby):
            raise ValueError(f"{len(X)} points for {len(nearby)} nearby points")
        intercepts, coefs = self._local_models(X)
        return (self._unstack(intercepts + np.einsum("nmd,nd->nm", coefs, X)),
                self._unstack(intercepts + np.einsum("nmd,nd->nm", coefs, nearby)))

    @abstractmethod
    def _local_models(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Intercepts (n, n_outputs_) and coefficients (n, n_outputs_, n_features) at validated points."""


