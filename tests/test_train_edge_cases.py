"""Defects found reviewing srnet/train.py, srnet/networks.py, srnet/loading.py and srnet/reference.py.

Each test fails on the code as reviewed, for the reason its docstring states.
"""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from srnet.networks import build_mlp
from srnet.train import fit_network


def _regression_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    Xv = rng.normal(size=(32, 2)).astype(np.float32)
    return X, (3 * X[:, :1]).astype(np.float32), Xv, (3 * Xv[:, :1]).astype(np.float32)


@pytest.mark.parametrize("bad_shape", ["1-D", "two columns"])
def test_validation_targets_of_the_wrong_shape_are_refused_or_scored_right(bad_shape):
    """fit_network checks the training y's shape against the model's output (_check_target_shape: a 1-D y
    against (n, 1) outputs broadcasts to (n, n) in the MSE), but not the validation y: a 1-D validation y
    broadcasts, the "validation loss" early stopping minimises is not the MSE on those rows, and training
    stops early keeping the wrong epoch's weights (4 epochs, epoch 1 kept: MSE 7.3, against 0.009 with a
    (n, 1) y).  Either refuse it (ValueError, as for the training y) or score the kept weights right."""
    X, y, Xv, yv = _regression_data()
    bad = yv[:, 0] if bad_shape == "1-D" else np.c_[yv, -yv]
    torch.manual_seed(0)
    model = build_mlp("mlp:2-8-1:tanh")
    history = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own broadcast warning is no refusal
            fit_network(model, X, y, nn.MSELoss(), epochs=6, batch_size=16, lr=0.05, validation=(Xv, bad),
                        patience=2, history=history)
    except ValueError:
        return  # refused, as a training y of that shape is
    with torch.no_grad():
        kept = float(nn.MSELoss()(model(torch.as_tensor(Xv)), torch.as_tensor(yv)))
    recorded = min(history["validation_loss"])
    assert recorded == pytest.approx(kept, rel=1e-5), (
        f"early stopping minimised {recorded:.4g}, but the kept weights' validation MSE is {kept:.4g}")
