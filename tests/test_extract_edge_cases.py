"""SRNet.fit edge cases found in review: a refit that fails part-way, a numbered DataFrame with feature_names=."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from srnet.extract import SRNet

QUICK = dict(max_generations=20, simplify_seconds=0, random_state=0, n_threads=1)


def asymmetric_network():
    """y = tanh(2a - b) - 0.5 tanh(a + 3b): swapping a and b changes the output."""
    net = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[2.0, -1.0], [1.0, 3.0]]))
        net[0].bias.zero_()
        net[2].weight.copy_(torch.tensor([[1.0, -0.5]]))
        net[2].bias.zero_()
    return net


def frame(n=60):
    X = np.random.default_rng(0).uniform(-1, 1, (n, 2))
    return pd.DataFrame(X, columns=["a", "b"])


class Stop(Exception):
    pass


def stop(progress):
    raise Stop("the caller's callback failed")


def test_a_refit_that_fails_mid_search_leaves_the_previous_fit_whole():
    """fit_activations sets feature_names_in_, n_features_in_, classes_, ... before the search, and the
    programs and formula only after it: a refit that fails in between (a callback raising, a second Ctrl-C,
    a 'layer's formula is not finite' from fit_layer_programs) leaves the new names beside the old formula.
    Then predict refuses the data the surviving formula was fitted on, and accepts reordered columns,
    computing the old formula on swapped inputs without a word."""
    df = frame()
    model = SRNet(**QUICK).fit(asymmetric_network(), df)
    before = model.predict(df)
    swapped = df[["b", "a"]]
    with pytest.raises(Stop):
        model.fit(asymmetric_network(), swapped, callback=stop)
    # the formula that survived is the first fit's, in (a, b): it must still read (a, b)
    try:
        again = model.predict(df)
    except ValueError as error:
        pytest.fail(f"after a failed refit, predict refuses the frame the surviving formula was fitted on: {error}")
    np.testing.assert_allclose(again, before)


def test_a_failed_refit_does_not_make_predict_read_swapped_columns_silently():
    df = frame()
    model = SRNet(**QUICK).fit(asymmetric_network(), df)
    swapped = df[["b", "a"]]
    with pytest.raises(Stop):
        model.fit(asymmetric_network(), swapped, callback=stop)
    try:
        values = model.predict(swapped)
    except ValueError:
        return  # refused: fine
    # accepted: the surviving formula of (a, b) must then be fed a and b, not b and a
    np.testing.assert_allclose(values, model.predict(df.to_numpy()), rtol=1e-9,
                               err_msg="predict accepted columns (b, a) and fed b where the formula reads a")


def test_predict_accepts_the_integer_labelled_frame_it_was_fitted_on_with_feature_names():
    """A DataFrame with integer column labels is numbered (its columns name nothing), yet with
    feature_names= its feature_names_in_ become those names, and predict then refuses the very frame
    fit was given ("X's columns differ from those SRNet was fitted on")."""
    df = pd.DataFrame(frame().to_numpy())  # columns 0, 1
    model = SRNet(**QUICK).fit(asymmetric_network(), df, feature_names=["a", "b"])
    try:
        values = model.predict(df)
    except ValueError as error:
        pytest.fail(f"predict refuses the frame fit was given: {error}")
    np.testing.assert_allclose(values, model.predict(df.to_numpy()))


def test_a_network_left_in_training_mode_is_explained_in_eval_mode_and_the_user_is_told():
    """A Dropout network handed over in train mode was explained (in eval mode, rightly) with no word: against
    the network as given the formula reported at R^2 0.994 scored 0.38."""
    import warnings

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Dropout(0.3), torch.nn.Linear(6, 1))
    X = np.random.default_rng(0).uniform(-1, 1, (60, 2))
    with pytest.warns(UserWarning, match=r"^the network is in training mode \(module '2' computes otherwise there\); srnet "
                                         r"explains it in eval mode, as model.eval\(\) runs it"):
        SRNet(max_seconds=None, **QUICK).fit(net, X)
    assert net.training and net[2].training  # (its flags are its own again)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SRNet(max_seconds=None, **QUICK).fit(net.eval(), X)  # in eval mode: nothing to say
        torch_free = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).train()
        SRNet(max_seconds=None, **QUICK).fit(torch_free, X)  # train mode without such modules changes nothing
