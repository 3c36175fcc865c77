"""srnet.loading: checks that kill mutants a mutation-testing sample of the module found alive.

Each test names the mutant(s) it kills (mutmut 3 names, ``x_<function>__mutmut_<n>``) and says what a user
would have lost had the mutation been a real change.
"""

import numpy as np
import pytest
import torch

from srnet.loading import load_workload
from srnet.networks import build_mlp
from srnet.reference import load_reference


@pytest.fixture()
def net_and_tables(tmp_path):
    """A 3-input state_dict ``net.pt`` (mlp:3-4-1:sigmoid), a 4-column ``wide.csv`` and a 5-column ``target.csv``."""
    torch.manual_seed(0)
    torch.save(build_mlp("mlp:3-4-1:sigmoid").state_dict(), tmp_path / "net.pt")
    rows = np.random.default_rng(0).uniform(size=(8, 5))
    np.savetxt(tmp_path / "wide.csv", rows[:, :4], delimiter=",")
    np.savetxt(tmp_path / "target.csv", rows, delimiter=",")
    return tmp_path


def test_a_state_dict_workload_is_named_after_its_file(net_and_tables):
    """Kills x_load_workload__mutmut_71 (the name None): report.json and the plots name the network by its file's
    stem; a None name would lose which network an explanation is of."""
    workload = load_workload(net_and_tables / "net.pt", net_and_tables / "wide.csv", architecture="mlp:3-4-1:sigmoid",
                             target="last")
    assert workload.name == "net"


def test_a_width_mismatch_without_target_counts_the_columns_and_suggests_target_last(net_and_tables):
    """Kills x_load_workload__mutmut_107 (the hint never given) and _119 ('COLUMN' in the count): a table with its
    target column still in it is the common cause of one column too many, and the message says how to fix it."""
    with pytest.raises(ValueError) as error:
        load_workload(net_and_tables / "net.pt", net_and_tables / "wide.csv", architecture="mlp:3-4-1:sigmoid")
    assert str(error.value) == ("the data have 4 columns but the network expects 3 (if the data include a target "
                                "column, pass --target last)")


def test_a_width_mismatch_with_a_target_given_does_not_suggest_one(net_and_tables):
    """Kills x_load_workload__mutmut_108 (the hint 'XXXX' once --target is given): a user who already passed
    --target must not be told to pass it, nor shown stray text."""
    with pytest.raises(ValueError) as error:
        load_workload(net_and_tables / "net.pt", net_and_tables / "target.csv", architecture="mlp:3-4-1:sigmoid",
                      target="last")
    assert str(error.value) == "the data have 4 columns but the network expects 3"


def test_a_classification_reference_keeps_its_test_split(gecco_dir):
    """Kills x_load_workload__mutmut_35 (X_test dropped): a classification reference ships a test split that
    srnet explain scores on; losing it would silently leave the held-out figures out."""
    folder = gecco_dir / "classification" / "car"
    workload = load_workload(folder)
    expected = load_reference(folder).X_test
    assert expected is not None and workload.is_classifier
    np.testing.assert_array_equal(workload.X_test, expected)


def test_a_reference_without_a_split_asks_for_data(gecco_dir):
    """Kills x_load_workload__mutmut_28 ('X is not None' for 'X is None'): the authors shipped no split for adult,
    so loading it alone must say to pass --data (naming the PMLB table), while a reference that ships its split
    (car) loads on that split without --data."""
    with pytest.raises(ValueError, match=r"^reference network 'adult' ships no data: pass --data \(e\.g\. the PMLB "
                                         r"name 'adult'\)$"):
        load_workload(gecco_dir / "classification" / "adult")
    car = gecco_dir / "classification" / "car"
    np.testing.assert_array_equal(load_workload(car).X, load_reference(car).X)
