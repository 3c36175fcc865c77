"""Regression tests for defects found in a review of srnet.data, srnet.loading, srnet.reference,
srnet.train and srnet.networks: each input below gave a traceback, a misleading line or a silent
wrong answer."""

import gzip
import re
import shutil
import zipfile
from io import BytesIO

import numpy as np
import pytest
import torch
from numpy.lib import format as npy_format
from torch import nn

from srnet.data import check_matrix, load_table

#: A header claiming 10**14 float64 values (about 730 TiB): more than any address space, below 2**63 bytes.
HUGE_SHAPE = (10**13, 10)


def _npy_header_only(shape) -> bytes:
    stream = BytesIO()
    npy_format.write_array_header_1_0(stream, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return stream.getvalue() + b"\0" * 64


def test_an_npy_whose_header_claims_a_huge_shape_is_one_line(tmp_path):
    """A cut-short or crafted .npy: numpy allocated the claimed shape first, a MemoryError traceback
    (srnet explain caught only ValueError and OSError)."""
    path = tmp_path / "huge.npy"
    path.write_bytes(_npy_header_only(HUGE_SHAPE))
    with pytest.raises(ValueError, match="huge.npy"):
        load_table(path)


def test_an_npz_member_whose_header_claims_a_huge_shape_is_one_line(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", _npy_header_only(HUGE_SHAPE))
    with pytest.raises(ValueError, match="huge.npz"):
        load_table(path)


@pytest.mark.parametrize("label", ["NA", "None", "null"])
def test_a_class_named_like_a_missing_value_marker_is_a_class(tmp_path, label):
    """pandas' default missing-value strings turned the class 'NA' (North America), 'None' (a severity)
    or 'null' into NaN, and the table was refused: "row 1 has none", though the file has the label."""
    path = tmp_path / "regions.csv"
    classes = ["EU", label, "AS"]
    path.write_text("a,b,region\n" + "".join(f"{i},{i * 2},{classes[i % 3]}\n" for i in range(12)))
    X, y, names = load_table(path, target="last")
    assert X.shape == (12, 2) and names == ["a", "b"]
    assert y.tolist() == [classes[i % 3] for i in range(12)]


def test_a_pmlb_table_with_another_target_still_drops_its_target_column(tmp_path):
    """srnet.loading promises "a PMLB table's target column always is [dropped]": with --target 0 the
    table's real label stayed among the network's inputs, as a feature named 'target'."""
    cache = tmp_path / "cache"
    (cache / "toy").mkdir(parents=True)
    rows = "".join(f"{i}\t{i * 0.5}\t{i % 2}\n" for i in range(12))
    (cache / "toy" / "toy.tsv.gz").write_bytes(gzip.compress(("a\tb\ttarget\n" + rows).encode()))
    X, y, names = load_table("toy", target=0, pmlb_cache=cache)
    assert "target" not in names
    assert X.shape == (12, 1) and names == ["b"]


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_a_table_without_rows_does_not_blame_a_missing_target(tmp_path, suffix):
    """A header-only CSV (or an empty array) was "empty ...; is the last column the target? give it
    (--target last)": the last column of no rows is all text, vacuously."""
    path = tmp_path / f"empty{suffix}"
    if suffix == ".csv":
        path.write_text("a,b,y\n")
    else:
        np.save(path, np.zeros((0, 3)))
    with pytest.raises(ValueError) as error:
        load_table(path)
    assert "--target" not in str(error.value)


def test_npz_arrays_that_do_not_fit_are_not_called_unreadable(tmp_path):
    """X and y of different lengths read fine; the message said the file "cannot be read as a NumPy
    array", as for a damaged file."""
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(24.0).reshape(12, 2), y=np.arange(13.0))
    with pytest.raises(ValueError, match="13 values") as error:
        load_table(path)
    assert "cannot be read" not in str(error.value)


def test_a_structured_npy_gets_no_hint_about_text_separators(tmp_path):
    """A record array's cell prints with ', ', so the error named .csv/.tsv separators for a .npy file."""
    path = tmp_path / "records.npy"
    np.save(path, np.array([[(1, 2.0)], [(3, 4.0)]], dtype=[("a", "i4"), ("b", "f8")]))
    for target in (None, "last"):
        with pytest.raises(ValueError) as error:
            load_table(path, target=target)
        assert "separated by" not in str(error.value)


def test_ragged_rows_are_named_as_the_matrix(tmp_path):
    """numpy's own "setting an array element with a sequence ... inhomogeneous shape" did not name X_train."""
    with pytest.raises(ValueError, match="X_train"):
        check_matrix([[1.0, 2.0], [3.0]], "X_train")


def test_a_state_dict_of_meta_tensors_is_one_line(tmp_path):
    """Weights saved without data (device='meta') gave torch's multi-line RuntimeError from load_state_dict."""
    from srnet.networks import load_network

    network = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
    path = tmp_path / "meta.pt"
    torch.save({key: value.to("meta") for key, value in network.state_dict().items()}, path)
    with pytest.raises(ValueError, match="meta"):
        load_network(path, "mlp:sigmoid")


@pytest.mark.parametrize("seed", [1.5, True, None])
def test_fit_network_refuses_a_seed_that_is_not_a_whole_number(seed):
    """train_mlp refuses them; fit_network truncated 1.5 to 1, took True as 1 and failed on None with a
    TypeError."""
    from srnet.networks import MLPSpec, build_mlp
    from srnet.train import fit_network

    torch.manual_seed(0)
    model = build_mlp(MLPSpec((2, 4, 1), "sigmoid"))
    X, y = torch.zeros(12, 2), torch.zeros(12, 1)
    with pytest.raises(ValueError, match="random_state"):
        fit_network(model, X, y, nn.MSELoss(), epochs=1, batch_size=4, lr=0.01, random_state=seed)


def _copy_reference(gecco_dir, tmp_path, name="kkk0"):
    folder = tmp_path / name
    shutil.copytree(gecco_dir / "regression" / name, folder)
    return folder


def _put_nan(path, line):
    with gzip.open(path, "rt") as handle:
        lines = handle.read().splitlines()
    lines[line] = " ".join(["nan"] * len(lines[line].split()))
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")


@pytest.mark.parametrize("file", ["data.txt.gz", "input.txt.gz"])
def test_a_reference_folder_with_nan_data_names_the_file(gecco_dir, tmp_path, file):
    """NaN in data.txt.gz loaded silently: srnet explain then printed "r2 -inf", a warning about --arch
    (which a reference folder has none of) and "class labels are missing" for a regression network; NaN in
    input.txt.gz was "X contains 1 NaN/inf value", no file named."""
    from srnet.reference import load_reference

    folder = _copy_reference(gecco_dir, tmp_path)
    _put_nan(folder / file, 3)
    with pytest.raises(ValueError, match=file.replace(".", r"\.")):
        load_reference(folder)


def test_architecture_spaces_and_underscored_widths():
    from srnet.networks import parse_architecture

    assert parse_architecture("mlp: 2-4-1 : sigmoid").activation == "sigmoid"
    with pytest.raises(ValueError, match="integers joined by '-'"):
        parse_architecture("mlp:3_2-4-1:sigmoid")


def test_fit_network_checks_patience_without_validation_rows():
    from srnet.train import fit_network

    model = nn.Linear(2, 1)
    X, y = torch.zeros(8, 2), torch.zeros(8, 1)
    with pytest.raises(ValueError, match="patience"):
        fit_network(model, X, y, nn.MSELoss(), epochs=1, batch_size=4, lr=0.01, random_state=0, patience="x")


def test_text_labels_with_na_among_them_still_suggest_the_target(tmp_path):
    """pandas read the class 'NA' as NaN, so the last column was not 'all text' and the hint to name the
    target was lost."""
    path = tmp_path / "regions.csv"
    path.write_text("a,b,region\n" + "".join(f"{i},{i * 2},{['NA', 'EU', 'AS'][i % 3]}\n" for i in range(12)))
    with pytest.raises(ValueError, match="--target last"):
        load_table(path)
    X, y, _ = load_table(path, target="last")
    assert sorted(set(y)) == ["AS", "EU", "NA"]


def test_a_folder_given_as_data_is_called_a_folder(tmp_path):
    """'d/my data' was "neither a file nor a PMLB dataset name"; a bare name is still a PMLB name."""
    from srnet.data import load_table

    (tmp_path / "my data").mkdir()
    with pytest.raises(IsADirectoryError, match=r"^'.*my data' is a folder: give the data file in it "):
        load_table(tmp_path / "my data")


def test_a_comment_line_at_the_top_is_named(tmp_path):
    """pandas' "Expected 1 fields in line 2, saw 4" for a first line '# exported by ...'."""
    from srnet.data import load_table

    (tmp_path / "t.csv").write_text("# exported by a tool\n" + "".join(f"{i},{i + 1},{2 * i},{i % 3}\n"
                                                                       for i in range(20)))
    with pytest.raises(ValueError, match=r"^cannot read 't\.csv' as a table: .*; its first line is a comment \('#'\): "
                                         r"remove the comment lines$"):
        load_table(tmp_path / "t.csv", target="last")


@pytest.mark.parametrize("cell", ["5_1", "\u0665.1"])
def test_a_number_python_reads_and_a_data_file_does_not_write_is_refused(tmp_path, cell):
    """float() reads '5_1' as 51 and Arabic-Indic digits as digits: a typo was silently another number."""
    path = tmp_path / "iris.csv"
    path.write_text(f"a,b,y\n1.5,2,0\n{cell},3,1\n2.5,4,0\n")
    with pytest.raises(ValueError, match=r"non-numeric values \(first at line 3, column 'a': "):
        load_table(path, target="last")
    path.write_text("a,b,y\n1.5,2,0\n1e3,-.5,1\n+2.5, 7 ,0\n")  # what files do write still reads
    X, y, _ = load_table(path, target="last")
    assert X[:2].tolist() == [[1.5, 2.0], [1000.0, -0.5]] and X[2, 0] == 2.5 and y.tolist() == [0, 1, 0]


@pytest.mark.parametrize("mark", ["?", "-"])
def test_a_missing_value_mark_among_numeric_targets_is_named_not_read_as_a_class(tmp_path, mark):
    """A '?' among the numbers 0, 1, 2 made the target text labels: a fourth class '?' for a classifier, and
    for a regressor "the target column holds text labels" (the real problem, a missing value, unsaid)."""
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i * 2},{i % 3}\n" for i in range(5)) + f"5,10,{mark}\n")
    with pytest.raises(ValueError, match=rf"^target column 'y' holds '{re.escape(mark)}' among numbers \(first at "
                                         rf"line 7, column 'y'\): a missing value\? drop those rows or fill them in$"):
        load_table(path, target="last")


def test_an_empty_name_in_the_header_is_refused_not_called_unnamed(tmp_path):
    """pandas named it 'Unnamed: 1', a name the file does not have, and the formulas read Unnamed_1."""
    path = tmp_path / "data.csv"
    path.write_text("a,,b,y\n" + "".join(f"{i},{i + 1},{i * 2},{i % 2}\n" for i in range(5)))
    with pytest.raises(ValueError, match=r"^'data.csv' names its columns in its first row but leaves column 2 "
                                         r"unnamed: give every column a name$"):
        load_table(path, target="last")


def test_an_unnamed_first_column_of_infinities_is_not_an_index_and_is_named_unnamed(tmp_path):
    """Whether an unnamed first column numbers the rows is asked of its values: int(inf) overflows (a traceback
    when not caught); such a column is no index, and its missing name is what is refused."""
    path = tmp_path / "data.csv"
    path.write_text(",a,y\ninf,1,0\n1,2,1\n3,4,0\n")
    with pytest.raises(ValueError, match=r"^'data.csv' names its columns in its first row but leaves column 1 "
                                         r"unnamed: give every column a name$"):
        load_table(path, target="last")
