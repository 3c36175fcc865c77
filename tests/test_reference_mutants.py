"""srnet.reference: checks that kill mutants a mutation-testing sample of the module found alive.

The sample: mutmut 3.8.1 on ``srnet/reference.py`` (272 mutants), 25 of them drawn with
``random.Random(60).sample(sorted(names), 25)``.  Each test names the mutant(s) it kills (mutmut 3 names,
``x_<function>__mutmut_<n>``) and says what a user would have seen go wrong had the mutation been a real change.
"""

import gzip
import re
import shutil

import numpy as np
import pytest

from srnet.reference import load_reference


def _copy(gecco_dir, tmp_path, task, name):
    folder = tmp_path / name
    shutil.copytree(gecco_dir / task / name, folder)
    return folder


@pytest.mark.parametrize("label", [4, 50])
def test_a_label_one_past_the_networks_classes_is_refused(gecco_dir, tmp_path, label):
    """Kills x__check_split__mutmut_29 (``y.max() <= widths[-1]``) and x__check_split__mutmut_30 (the labels
    checked against ``widths[+1]``, the first hidden layer's 100 units, not the 4 outputs): car's network has
    classes 0..3, so a split whose labels reach 4 (or 50) is of another dataset or numbered from 1; it loaded
    silently and every accuracy on it was scored against a class no output stands for."""
    folder = _copy(gecco_dir, tmp_path, "classification", "car")
    assert load_reference(folder).widths == (6, 100, 100, 100, 4)
    with gzip.open(folder / "train.txt.gz", "wt") as file:
        file.write(f"1 2 3 4 5 6 0\n1 2 3 4 5 6 {label}\n")
    with pytest.raises(ValueError) as error:
        load_reference(folder)
    assert str(error.value) == (f"'{folder / 'train.txt.gz'}': its labels (last column) must be whole numbers in "
                                f"0..3, the network's classes")


def test_nan_inputs_of_a_regression_reference_name_input_txt_gz_exactly(gecco_dir, tmp_path):
    """Kills x_load_reference__mutmut_89 (the NaN check of input.txt.gz told the path ``XXinput.txt.gzXX``): the
    message must name the file that holds the NaN, as it is on disk, so the user can open and repair it; a
    pattern search for ``input.txt.gz`` alone also matched the mangled name."""
    folder = _copy(gecco_dir, tmp_path, "regression", "kkk0")
    with gzip.open(folder / "input.txt.gz", "rt") as file:
        lines = file.read().splitlines()
    lines[3] = " ".join(["nan"] * len(lines[3].split()))
    with gzip.open(folder / "input.txt.gz", "wt") as file:
        file.write("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="^" + re.escape(f"'{folder / 'input.txt.gz'}' holds NaN/inf values") + "$"):
        load_reference(folder)
    assert np.isnan(np.loadtxt(folder / "input.txt.gz", ndmin=2)).any()
