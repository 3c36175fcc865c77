"""srnet.data: matrix validation and table loading."""

import gzip
import re
import urllib.error

import numpy as np
import pandas as pd
import pytest

from srnet.data import PMLB_CACHE_ENV, check_matrix, check_vector, load_table, pmlb_cache_dir

TABLE = np.array([[1.0, 2.5, -3.0], [4.0, 5.0, 6.25], [7.5, 8.0, 9.0], [0.0, -1.0, 2.0]])


# --- check_matrix -----------------------------------------------------------


def test_check_matrix_returns_float64_c_contiguous():
    fortran = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(3, 2))
    matrix = check_matrix(fortran)
    assert matrix.dtype == np.float64
    assert matrix.flags.c_contiguous
    np.testing.assert_array_equal(matrix, [[0, 1], [2, 3], [4, 5]])


def test_check_matrix_keeps_a_valid_array_without_copying():
    X = np.ones((3, 2))
    assert check_matrix(X) is X


def test_check_matrix_parses_numeric_strings():
    np.testing.assert_array_equal(check_matrix([["1", "2.5"], ["-3", "4e1"]]), [[1, 2.5], [-3, 40]])


def test_check_matrix_reports_the_first_nan_or_inf():
    X = np.zeros((8, 4))
    X[5, 2] = np.nan
    X[6, 0] = np.inf
    X[7, 3] = -np.inf
    with pytest.raises(ValueError, match=r"^X contains 3 NaN/inf values \(first at row 5, column 2\)$"):
        check_matrix(X)


def test_check_matrix_names_the_array_in_messages():
    with pytest.raises(ValueError, match=r"^X_test contains 1 NaN/inf value"):
        check_matrix([[np.nan]], name="X_test")


def test_check_matrix_reports_the_first_non_numeric_cell():
    X = np.array([[1, 2], [3, "abc"], [None, 4]], dtype=object)
    with pytest.raises(ValueError, match=r"^X contains non-numeric values \(first at row 1, column 1: 'abc'\)$"):
        check_matrix(X)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.ones(5), r"X must be 2-D \(n_samples, n_features\); got 1-D with shape \(5,\); reshape"),
        (np.ones((2, 2, 2)), r"X must be 2-D .*got 3-D with shape \(2, 2, 2\)$"),
        (np.float64(3.0), r"X must be 2-D .*got 0-D"),
        (np.ones((0, 3)), r"^X is empty: shape \(0, 3\)$"),
        (np.ones((4, 0)), r"^X is empty: shape \(4, 0\)$"),
        (np.ones((2, 2), dtype=complex), r"^X is complex"),
    ],
)
def test_check_matrix_rejects_bad_shapes_and_types(X, message):
    with pytest.raises(ValueError, match=message):
        check_matrix(X)


def test_check_vector_flattens_a_column_and_checks_length():
    np.testing.assert_array_equal(check_vector([[1], [2], [3]], 3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^y has 3 values but X has 4 rows$"):
        check_vector([1, 2, 3], 4)
    with pytest.raises(ValueError, match=r"^y must be 1-D \(n_samples,\); got shape \(2, 2\)$"):
        check_vector(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match=r"^y contains 1 NaN/inf value \(first at row 1, column 0\)$"):
        check_vector([1.0, np.inf], 2)


# --- load_table: files --------------------------------------------------------


def _write_text(path, text):
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)


@pytest.mark.parametrize(
    "filename, delimiter",
    [("t.csv", ","), ("t.tsv", "\t"), ("t.txt", " "), ("t.txt.gz", "  "), ("t.csv.gz", ",")],
)
def test_headerless_text_round_trips(tmp_path, filename, delimiter):
    path = tmp_path / filename
    _write_text(path, "\n".join(delimiter.join(str(v) for v in row) for row in TABLE) + "\n")
    X, y, names = load_table(path, target="last")
    np.testing.assert_array_equal(X, TABLE[:, :2])
    np.testing.assert_array_equal(y, TABLE[:, 2])
    assert names == ["x0", "x1"]


def test_csv_header_is_detected_and_target_chosen_by_name(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame(TABLE, columns=["mass", "speed", "energy"]).to_csv(path, index=False)
    X, y, names = load_table(path, target="speed")
    np.testing.assert_array_equal(X, TABLE[:, [0, 2]])
    np.testing.assert_array_equal(y, TABLE[:, 1])
    assert names == ["mass", "energy"]


def test_target_none_keeps_every_column_and_int_target_counts_from_either_end(tmp_path):
    path = tmp_path / "t.tsv"
    pd.DataFrame(TABLE, columns=["a", "b", "c"]).to_csv(path, sep="\t", index=False)
    X, y, names = load_table(path)
    np.testing.assert_array_equal(X, TABLE)
    assert y is None and names == ["a", "b", "c"]
    X, y, names = load_table(path, target=0)
    np.testing.assert_array_equal(y, TABLE[:, 0])
    assert names == ["b", "c"]
    _, y, _ = load_table(path, target=-2)
    np.testing.assert_array_equal(y, TABLE[:, 1])


def test_npy_round_trips(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, TABLE)
    X, y, names = load_table(path, target="last")
    np.testing.assert_array_equal(X, TABLE[:, :2])
    np.testing.assert_array_equal(y, TABLE[:, 2])
    assert names == ["x0", "x1"]


def test_npz_with_x_and_y_round_trips(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, X=TABLE[:, :2], y=TABLE[:, 2])
    X, y, _ = load_table(path)
    np.testing.assert_array_equal(X, TABLE[:, :2])
    np.testing.assert_array_equal(y, TABLE[:, 2])


def test_npz_with_one_array_behaves_like_npy(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, table=TABLE)
    X, y, _ = load_table(path, target=1)
    np.testing.assert_array_equal(X, TABLE[:, [0, 2]])
    np.testing.assert_array_equal(y, TABLE[:, 1])


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^no such file: '.*missing\.csv'$"):
        load_table(tmp_path / "missing.csv")
    headerless = tmp_path / "h.csv"
    headerless.write_text("1,2\n3,4\n")
    with pytest.raises(ValueError, match=r"^'h\.csv' has no column 'y'; columns: x0, x1$"):
        load_table(headerless, target="y")
    with pytest.raises(ValueError, match=r"^target column 5 is out of range for 'h\.csv' with 2 columns$"):
        load_table(headerless, target=5)
    with pytest.raises(ValueError, match=r"^target must be None, 'last', a column index or a column name"):
        load_table(headerless, target=1.5)
    single = tmp_path / "single.csv"
    single.write_text("1\n2\n")
    with pytest.raises(ValueError, match=r"has only the target column and no features$"):
        load_table(single, target="last")
    semicolons = tmp_path / "semi.csv"  # a European CSV: was diagnosed as a file without features
    semicolons.write_text("a;b;c\n5.1;3.5;0\n4.9;3.0;1\n")
    with pytest.raises(ValueError, match=r"no features \(its rows are separated by semicolons, which the file's"):
        load_table(semicolons, target="last")
    # named, the target was sought among one column named 'a;b;c', and the semicolons went unsaid
    with pytest.raises(ValueError, match=r"has no column 'c'; columns: a;b;c \(its rows are separated by semicolons"):
        load_table(semicolons, target="c")
    commas = tmp_path / "comma.csv"
    commas.write_text("a,b,c\n1,2,3\n1,2,4\n")
    with pytest.raises(ValueError, match=r"has no column 'd'; columns: a, b, c$"):  # no separator to speak of
        load_table(commas, target="d")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"holds no data$"):
        load_table(empty)
    odd = tmp_path / "t.xlsx"
    odd.write_text("x")
    with pytest.raises(ValueError, match=r"^cannot tell the format of"):
        load_table(odd)


def test_bad_cells_in_a_file_are_located(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,oops\n")
    # the file, its line and the column's name (it said "X ... row 1, column 1": no file, a row counted from 0)
    with pytest.raises(ValueError, match=r"^'t.csv' contains non-numeric values \(first at line 3, column 'b': "
                                         r"'oops'\)$"):
        load_table(path)
    path.write_text("a,b\n1,2\n3,\n")
    with pytest.raises(ValueError, match=r"^'t.csv' contains 1 NaN/inf value \(first at line 3, column 'b'\)$"):
        load_table(path)
    path.write_text("1,2\n3,4\nx,5\n")  # no header: columns by number, from 1
    with pytest.raises(ValueError, match=r"first at line 3, column 1: 'x'"):
        load_table(path, target="last")
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n")  # a short row: pandas padded it with NaN
    with pytest.raises(ValueError, match=r"^'t.csv': line 3 has 2 fields, the first line 3"):
        load_table(path, target="last")
    path.write_text("a,b,y\n" + "".join(f"{i},{2 * i},{'cat' if i % 2 else 'dog'}\n" for i in range(12)))
    with pytest.raises(ValueError, match=r"column 'y': 'dog'\); is the last column the target\? give it"):
        load_table(path)


def test_npz_errors(tmp_path):
    both = tmp_path / "both.npz"
    np.savez(both, X=TABLE, y=TABLE[:, 0])
    with pytest.raises(ValueError, match=r"holds an array X \(and y\), so no column is the target: give no target \(no --target\)$"):
        load_table(both, target="last")
    many = tmp_path / "many.npz"
    np.savez(many, a=TABLE, b=TABLE)
    with pytest.raises(ValueError, match=r"must hold arrays 'X' \(and 'y'\) or one 2-D array; it holds \['a', 'b'\]$"):
        load_table(many)
    flat = tmp_path / "flat.npy"
    np.save(flat, np.ones(3))
    with pytest.raises(ValueError, match=r"^'flat\.npy' must hold a 2-D table; got shape \(3,\)$"):
        load_table(flat)
    objects = tmp_path / "objects.npy"
    np.save(objects, np.array([[{"a": 1}]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"^'objects\.npy' holds Python objects, which srnet does not unpickle"):
        load_table(objects)


def test_damaged_files_are_one_line_naming_the_file(tmp_path):
    (tmp_path / "plain.csv.gz").write_text("1,2\n3,4\n")  # not gzipped
    whole = gzip.compress(b"a,b\n" + b"1,2\n" * 2000)
    (tmp_path / "cut.csv.gz").write_bytes(whole[: len(whole) // 2])
    np.savez(tmp_path / "full.npz", X=TABLE)
    archive = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(archive[: len(archive) // 2])
    (tmp_path / "text.npy").write_text("hello\n")
    (tmp_path / "latin.csv").write_bytes("caf\xe9,b\n1,2\n".encode("latin-1"))
    expected = {"plain.csv.gz": "BadGzipFile", "cut.csv.gz": "EOFError", "cut.npz": "BadZipFile"}
    for name, error in expected.items():
        with pytest.raises(ValueError, match=rf"^cannot read '{re.escape(name)}' \(damaged, or not what its "
                                             rf"suffix says\?\): {error}: ") as excinfo:
            load_table(tmp_path / name)
        assert "\n" not in str(excinfo.value)
    with pytest.raises(ValueError, match=r"^'text\.npy' holds no NumPy data \(damaged, or another format\)"):
        load_table(tmp_path / "text.npy")  # not "holds Python objects": it is no pickle either
    with pytest.raises(ValueError, match=r"^cannot read 'latin\.csv': it is not UTF-8 text"):
        load_table(tmp_path / "latin.csv")


def test_a_header_of_column_numbers_is_a_header_and_suffixes_have_any_case(tmp_path):
    """pandas' DataFrame(X).to_csv(index=False) writes the header 0,1: it was read as a row (0, 1)."""
    values = np.random.default_rng(0).uniform(5, 6, (20, 2))
    pd.DataFrame(values).to_csv(tmp_path / "numbered.CSV", index=False)
    X, y, names = load_table(tmp_path / "numbered.CSV")
    np.testing.assert_allclose(X, values)
    assert names == ["0", "1"] and y is None
    (tmp_path / "data.csv").write_text("1,0\n2,3\n")  # any other numeric first row stays data
    assert load_table(tmp_path / "data.csv")[0].shape == (2, 2)
    (tmp_path / "counted.csv").write_text("0,1\n1,3\n2,5\n3,7\n")  # column 0 counts on: an index, not a header
    X, y, names = load_table(tmp_path / "counted.csv", target="last")
    assert X[:, 0].tolist() == [0, 1, 2, 3] and y.tolist() == [1, 3, 5, 7] and names == ["x0"]


@pytest.mark.parametrize("names", [["400", "410", "420", "430"], ["2019", "2020", "2021", "2022"], ["1", "2", "3", "4"]])
def test_numbers_in_equal_steps_beyond_the_values_below_name_the_columns(tmp_path, names):
    """Wavelengths, years, positions: a first row of them was read as data (51 rows, the box 400-fold wide, a
    nonsense formula); a first row of data in equal steps lies among the values below it and stays data."""
    from srnet.data import has_name_row

    values = np.random.default_rng(0).uniform(0, 0.9, (30, 4))
    pd.DataFrame(values, columns=names).to_csv(tmp_path / "spectra.csv", index=False)
    X, y, shown = load_table(tmp_path / "spectra.csv", target="last")
    np.testing.assert_allclose(X, values[:, :3])
    assert shown == names[:3] and has_name_row(tmp_path / "spectra.csv") is True
    rows = np.random.default_rng(1).integers(0, 10, (30, 4))
    rows[0] = [2, 4, 6, 8]  # equal steps, among the values below: data
    np.savetxt(tmp_path / "counts.csv", rows, delimiter=",", fmt="%d")
    X, y, shown = load_table(tmp_path / "counts.csv", target="last")
    assert X.shape == (30, 3) and X[0].tolist() == [2, 4, 6] and shown == ["x0", "x1", "x2"]
    assert has_name_row(tmp_path / "counts.csv") is False and has_name_row(tmp_path / "none.npy") is None
    counting = np.arange(1, 31)  # sorted: the first row is each column's minimum, just below the rest
    np.savetxt(tmp_path / "sorted.csv", np.column_stack([counting, counting + 1, counting + 2, counting + 3]),
               delimiter=",", fmt="%d")
    X, y, shown = load_table(tmp_path / "sorted.csv", target="last")
    assert X.shape == (30, 3) and X[0].tolist() == [1, 2, 3] and has_name_row(tmp_path / "sorted.csv") is False


@pytest.mark.parametrize("header", ["a,b,c,y,\n", ""])
def test_a_separator_ending_every_line_is_named(tmp_path, header):
    """'a,b,c,y,' on every line: "target column 'Unnamed: 4' contains 20 NaN/inf values", a column pandas named;
    a last column of "NA" labels is no trailing separator."""
    (tmp_path / "na.csv").write_text(header.rstrip(",\n") + ("\n" if header else "")
                                     + "".join(f"{i},{i + 1},{2 * i},NA\n" for i in range(20)))
    try:
        load_table(tmp_path / "na.csv", target="last")
    except ValueError as error:
        assert "ends with a separator" not in str(error)
    _trailing_separators(tmp_path, header)


def _trailing_separators(tmp_path, header):
    (tmp_path / "t.csv").write_text(header + "".join(f"{i},{i + 1},{2 * i},{i % 3},\n" for i in range(20)))
    with pytest.raises(ValueError, match=r"^every line of 't\.csv' ends with a separator \(','\): an empty last "
                                         r"column; remove the trailing separators$"):
        load_table(tmp_path / "t.csv", target="last")


@pytest.mark.parametrize("target", [None, "last"])
def test_decimal_commas_are_named(tmp_path, target):
    """A .tsv saved with decimal=",": "is the last column the target? give it (--target last)", or nothing."""
    values = np.random.default_rng(0).normal(size=(20, 4))
    pd.DataFrame(values, columns=list("abcy")).to_csv(tmp_path / "t.tsv", sep="\t", index=False, decimal=",")
    with pytest.raises(ValueError, match=r"^'t\.tsv' contains non-numeric values \(first at line 2, column 'a': "
                                         r"'.*'\); its numbers are written with commas \(decimal commas, or "
                                         r"thousands separators\): save them as plain numbers with decimal points$"):
        load_table(tmp_path / "t.tsv", target=target)


def test_a_target_of_numbers_with_decimal_commas_is_no_column_of_labels(tmp_path):
    """A .tsv whose inputs are whole numbers and whose y was saved with decimal=",": y loaded as text labels
    ('5,25', '2,75', ...: as many classes as rows), and a regression network was told to be a classifier."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.integers(0, 9, 20), "b": rng.integers(0, 9, 20), "y": rng.normal(size=20)})
    frame.to_csv(tmp_path / "t.tsv", sep="\t", index=False, decimal=",")
    with pytest.raises(ValueError, match=r"^target column 'y' of 't\.tsv' holds numbers written with commas \(such "
                                         r"as '-?\d+,\d+': decimal commas, or thousands separators\)"):
        load_table(tmp_path / "t.tsv", target="y")
    (tmp_path / "labels.csv").write_text("a,b,y\n" + "".join(f"{i},{i + 1},class {i % 2}\n" for i in range(20)))
    assert sorted(set(load_table(tmp_path / "labels.csv", target="y")[1])) == ["class 0", "class 1"]  # labels stay


def test_a_headerless_table_with_text_labels_keeps_its_first_row(tmp_path):
    """Text over a column of text is a class label, not a column name: the first flower was read as a header."""
    rows = "5.1,3.5,setosa\n4.9,3.0,setosa\n6.2,2.9,virginica\n5.9,3.0,virginica\n"
    (tmp_path / "iris.csv").write_text(rows)
    X, y, names = load_table(tmp_path / "iris.csv", target="last")
    assert X.shape == (4, 2) and X[0].tolist() == [5.1, 3.5] and names == ["x0", "x1"]
    assert y.tolist() == ["setosa", "setosa", "virginica", "virginica"]
    (tmp_path / "named.csv").write_text("length,width,species\n" + rows)  # names over numbers: a header
    X, y, names = load_table(tmp_path / "named.csv", target="species")
    assert X.shape == (4, 2) and names == ["length", "width"]


@pytest.mark.parametrize("header", ["0,1,species", "2019,2020,species", "a,1,species"])
def test_a_header_whose_only_word_names_a_text_column_is_a_header(tmp_path, header):
    """``DataFrame(X).assign(species=...).to_csv(index=False)`` writes 0,1,species: the word
    is not one of its column's labels, so the row names the columns (it was read as a flower
    of class "species")."""
    (tmp_path / "t.csv").write_text(header + "\n5.1,3.5,setosa\n4.9,3.0,setosa\n6.2,2.9,virginica\n")
    X, y, names = load_table(tmp_path / "t.csv", target="last")
    assert X.shape == (3, 2) and names == header.split(",")[:2]
    assert sorted(set(y)) == ["setosa", "virginica"]


def test_a_headerless_first_row_whose_label_is_the_only_one_of_its_class_stays_data(tmp_path):
    """Measurements (5.1, 3.5) under no header: the first flower's class appears once, and the row was read
    as column names (a row and a class lost)."""
    (tmp_path / "t.csv").write_text("5.1,3.5,Iris-virginica\n4.9,3.0,Iris-setosa\n4.7,3.2,Iris-setosa\n")
    X, y, names = load_table(tmp_path / "t.csv", target="last")
    assert X.shape == (3, 2) and names == ["x0", "x1"] and y[0] == "Iris-virginica"
    # whole numbers that do not count up are data too (the row was lost, and the columns named x3, x0, x1)
    (tmp_path / "w.csv").write_text("3,0,1,versicolor\n2,1,0,setosa\n2,1,1,setosa\n1,0,0,virginica\n")
    X, y, names = load_table(tmp_path / "w.csv", target="last")
    assert X.shape == (4, 3) and names == ["x0", "x1", "x2"] and y[0] == "versicolor"


def test_a_target_column_of_text_labels_is_kept_as_text(tmp_path):
    (tmp_path / "classes.csv").write_text("a,b,label\n1,2,yes\n3,4,no\n5,6,yes\n")
    X, y, names = load_table(tmp_path / "classes.csv", target="label")
    assert X.shape == (3, 2) and list(y) == ["yes", "no", "yes"] and names == ["a", "b"]
    (tmp_path / "gap.csv").write_text("a,label\n1,yes\n3,\n")
    with pytest.raises(ValueError, match=r"^target column 'label' holds text labels but row 1 has none$"):
        load_table(tmp_path / "gap.csv", target="label")


# --- load_table: PMLB ---------------------------------------------------------


def test_pmlb_dataset_from_the_shared_cache(pmlb_cache):
    X, y, names = load_table("analcatdata_aids", pmlb_cache=pmlb_cache)
    frame = pd.read_csv(pmlb_cache / "analcatdata_aids" / "analcatdata_aids.tsv.gz", sep="\t")
    assert names == [c for c in frame.columns if c != "target"]
    np.testing.assert_array_equal(X, frame.drop(columns="target").to_numpy(dtype=float))
    np.testing.assert_array_equal(y, frame["target"].to_numpy(dtype=float))


def test_pmlb_cache_comes_from_the_environment(pmlb_cache, monkeypatch):
    monkeypatch.setenv(PMLB_CACHE_ENV, str(pmlb_cache))
    assert pmlb_cache_dir() == pmlb_cache
    X, _, _ = load_table("analcatdata_aids")
    assert X.shape == (50, 4)


def test_default_pmlb_cache_is_a_user_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(PMLB_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert pmlb_cache_dir() == tmp_path / "srnet" / "pmlb"
    monkeypatch.setenv(PMLB_CACHE_ENV, str(tmp_path / "from_env"))
    assert pmlb_cache_dir() == tmp_path / "from_env"
    assert pmlb_cache_dir(tmp_path / "argument") == tmp_path / "argument"


def test_uncached_pmlb_dataset_without_network_says_where_it_looked(tmp_path, monkeypatch):
    import pmlb

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(pmlb, "fetch_data", offline)
    with pytest.raises(FileNotFoundError) as error:
        load_table("analcatdata_aids", pmlb_cache=tmp_path, download=True)
    message = str(error.value)
    assert f"not in the cache folder '{tmp_path}' and could not be downloaded" in message
    assert "SRNET_PMLB_CACHE" in message and "analcatdata_aids/analcatdata_aids.tsv.gz" in message


def test_an_uncached_pmlb_table_is_not_downloaded_unless_asked(tmp_path, monkeypatch):
    """srnet explain --data iris fetched it from GitHub unasked, where srnet bench needs --download."""
    import pmlb

    def never(*args, **kwargs):
        raise AssertionError("downloaded without being asked")

    monkeypatch.setattr(pmlb, "fetch_data", never)
    with pytest.raises(FileNotFoundError, match=rf"^PMLB dataset 'iris' is not in the cache folder '{tmp_path}': "
                                                r"put iris/iris.tsv.gz there, point --pmlb-cache .* or let srnet "
                                                r"download it there \(--download; download=True\)$"):
        load_table("iris", pmlb_cache=tmp_path)


def test_unknown_pmlb_name_suggests_close_names(tmp_path):
    with pytest.raises(ValueError, match=r"^'analcatdata_aid' is neither a file nor a PMLB dataset; did you mean 'analcatdata_aids'"):
        load_table("analcatdata_aid", pmlb_cache=tmp_path)
    with pytest.raises(ValueError, match=r"^'zzzzqqq' is neither a file nor a PMLB dataset$"):
        load_table("zzzzqqq", pmlb_cache=tmp_path)


def test_a_folder_named_as_data_is_called_a_folder(tmp_path, monkeypatch):
    """A bare folder name was read as a PMLB name: "'emptydir' is neither a file nor a PMLB dataset"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(IsADirectoryError, match=r"^'emptydir' is a folder, and no PMLB dataset: give the data file"):
        load_table("emptydir", pmlb_cache=tmp_path / "cache")


def test_a_bad_target_value_of_an_array_is_placed_by_its_row(tmp_path):
    """A NaN target in an array's last column read "target column 'x1' contains ... (first at row 37, column
    0)": column 0 of the target alone, beside the name of column 1."""
    table = np.random.default_rng(0).normal(size=(50, 2))
    table[37, 1] = np.nan
    np.save(tmp_path / "nan.npy", table)
    with pytest.raises(ValueError, match=r"^target column 'x1' contains 1 NaN/inf value \(first at row 37\)$"):
        load_table(tmp_path / "nan.npy", target="last")


def test_a_table_of_no_data_rows_says_so(tmp_path):
    """A name row alone read "'header.csv' is empty: shape (0, 1)": the shape of its features, of a table of
    two columns; a (0, 2) array the same."""
    (tmp_path / "header.csv").write_text("x,y\n")
    with pytest.raises(ValueError, match=r"^'header.csv' has no data rows \(a name row alone\)$"):
        load_table(tmp_path / "header.csv", target="last")
    np.save(tmp_path / "none.npy", np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"^'none.npy' has no data rows$"):
        load_table(tmp_path / "none.npy", target="last")


def test_a_ragged_or_empty_table_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "ragged.csv").write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n")
    (tmp_path / "empty.csv.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(ValueError, match=r"^cannot read 'ragged\.csv' as a table: Error tokenizing data\. C error: "
                                         r"Expected 3 fields in line 4, saw 4$"):
        load_table(tmp_path / "ragged.csv")
    with pytest.raises(ValueError, match=r"empty\.csv\.gz' holds no data") as excinfo:
        load_table(tmp_path / "empty.csv.gz")
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("frame", [pd.DataFrame(TABLE, columns=list("abc")), pd.DataFrame(TABLE)])
def test_a_table_saved_with_pandas_index_is_refused_not_read_as_a_feature(tmp_path, frame):
    """to_csv's default writes the index as an unnamed first column: it became feature x0 (0, 1, 2, ...), and a
    numbered header behind an empty corner cell read as a NaN cell of the data."""
    frame.to_csv(tmp_path / "indexed.csv")
    with pytest.raises(ValueError, match=r"'indexed\.csv' starts with an unnamed column numbering the rows: an "
                                         r"index written with the table \(pandas' to_csv.*index=False"):
        load_table(tmp_path / "indexed.csv")
    frame.to_csv(tmp_path / "plain.csv", index=False)
    X, _, names = load_table(tmp_path / "plain.csv")
    np.testing.assert_allclose(X, TABLE) and names == [str(c) for c in frame.columns]


def test_torch_tensors_are_matrices_whatever_their_grad_or_precision():
    torch = pytest.importorskip("torch")
    values = torch.tensor([[1.5, 2.0], [3.0, -4.0]], requires_grad=True)
    np.testing.assert_array_equal(check_matrix(values), [[1.5, 2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(check_matrix(values.detach().to(torch.bfloat16)), [[1.5, 2.0], [3.0, -4.0]])


@pytest.mark.parametrize("labels, message", [
    ([1, "a"] * 10, r"class labels mix text and other values \(such as 'a' and 1\)"),
    (["a", None] * 10, r"class labels are missing \(None, NaN or NA\) on 10 rows, first row 1"),
    (np.array([0.0, np.nan] * 10), r"class labels are missing \(None, NaN or NA\) on 10 rows, first row 1"),
    (pd.Series(["a", np.nan] * 10).to_numpy(), r"class labels are missing"),
    (pd.Series(["a", pd.NA] + ["b"] * 18, dtype="string"), r"class labels are missing \(None, NaN or NA\) on 1 row, first row 1"),
])
def test_missing_or_mixed_class_labels_are_one_line(labels, message):
    from srnet.data import class_indices
    from srnet.train import train_mlp

    with pytest.raises(ValueError, match=message):
        class_indices(np.asarray(labels, dtype=object) if isinstance(labels, list) else labels)
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=message + "|y contains 10 NaN/inf values"):
        train_mlp(X, np.asarray(labels, dtype=object) if isinstance(labels, list) else labels,
                  task="classification", epochs=1)


def test_a_review_of_bad_inputs_each_one_line():
    """An integer beyond float64 (OverflowError traceback), a masked cell (its hidden value used), dates
    (nanoseconds since 1970), a float seed beyond int64 (overflowed in torch), -10**400 (read +inf)."""
    from srnet.data import check_budget

    with pytest.raises(ValueError, match=r"X holds an integer beyond float64 \(first at row 0, column 0: 401 digits\)"):
        check_matrix(np.array([[10**400, 1]], dtype=object))
    with pytest.raises(ValueError, match="1 NaN/inf value"):
        check_matrix(np.ma.array([[1.0, 2.0]], mask=[[False, True]]))
    assert check_matrix(np.ma.array([[1.0, 2.0]], mask=[[False, False]])).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="holds dates or durations"):
        check_matrix(pd.DataFrame({"a": pd.to_datetime(["2020-01-01", "2021-01-01"])}))
    with pytest.raises(ValueError, match=r"seed must be at most 2\*\*63 - 1, got 1e\+19"):
        check_budget("seed", 1e19, integer=True)
    with pytest.raises(ValueError, match="got -inf"):
        check_budget("b", -10**400)


def test_a_missing_value_marker_in_the_first_row_is_data_and_a_row_index_column_is_refused(tmp_path):
    marked = tmp_path / "marked.csv"
    marked.write_text("?,5.2,3.1\n4.1,5.3,6.2\n7.4,8.1,9.9\n")  # '?' was a column name, the row lost
    with pytest.raises(ValueError, match=r"non-numeric values \(first at line 1, column 1: '\?'\)"):
        load_table(marked, target="last")
    for start, order in ((1, range(12)), (0, [3, 0, 7, 1, 11, 2, 5, 4, 10, 9, 6, 8])):  # R's, a shuffled frame's
        indexed = tmp_path / f"indexed{start}.csv"
        indexed.write_text('"","a","y"\n' + "".join(f'"{i + start}",{i * 0.1:.2f},{i * 0.3:.2f}\n' for i in order))
        with pytest.raises(ValueError, match="unnamed column numbering the rows"):
            load_table(indexed, target="last")


def test_npz_text_labels_load_as_a_csvs_and_a_pmlb_name_stays_in_its_cache(tmp_path):
    np.savez(tmp_path / "t.npz", X=np.random.default_rng(0).random((12, 2)), y=np.array(["a", "b"] * 6))
    assert load_table(tmp_path / "t.npz")[1][:3].tolist() == ["a", "b", "a"]
    (tmp_path / "x.tsv.gz").write_bytes(gzip.compress(b"a\ttarget\n1\t2\n"))
    (tmp_path / "cache" / "x").mkdir(parents=True)
    with pytest.raises(ValueError, match="neither a file nor a PMLB dataset"):
        load_table("../x", pmlb_cache=tmp_path / "cache")
    with pytest.raises(IsADirectoryError, match=r"^'\.\.' is a folder"):  # a folder, read as nothing else
        load_table("..", pmlb_cache=tmp_path / "cache")
    # every PMLB name passes (parity5+5 was refused)
    (tmp_path / "cache" / "parity5+5").mkdir()
    (tmp_path / "cache" / "parity5+5" / "parity5+5.tsv.gz").write_bytes(gzip.compress(
        b"a\tb\ttarget\n" + b"".join(b"%d\t%d\t%d\n" % (i % 2, i % 3, i % 2) for i in range(12))))
    assert load_table("parity5+5", pmlb_cache=tmp_path / "cache")[0].shape == (12, 2)


def test_a_semicolon_csv_says_how_it_is_separated(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("a;b;y\n1,5;2,5;3\n2,5;3,5;4\n")  # Excel's CSV where the decimal mark is a comma
    with pytest.raises(ValueError, match=r"separated by semicolons, and \.csv splits on commas"):
        load_table(path, target="last")
    path.write_text("a;b;y\n1;2;3\n2;3;4\n")
    for target in (None, "last"):  # without a target the message showed the raw cell '1;2;3' alone
        with pytest.raises(ValueError, match=r"its rows are separated by semicolons"):
            load_table(path, target=target)


@pytest.mark.parametrize("header", ["x, x,y", "a,a,y"])
def test_a_header_that_names_a_column_twice_is_refused(tmp_path, header):
    """pandas renamed the second 'a' to 'a.1' (a column the file does not have), or kept both 'x' and the
    target 'x' picked the first: which one was dropped was hidden."""
    path = tmp_path / "d.csv"
    path.write_text(f"{header}\n1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match=r"names more than one column '(x|a)': give every column its own name"):
        load_table(path, target="y")


def test_a_blank_label_is_a_missing_one(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,cat\n3,4, \n5,6,dog\n")
    with pytest.raises(ValueError, match=r"target column 'y' holds text labels but row 1 has none"):
        load_table(path, target="y")


def test_bytes_labels_in_an_npz_read_as_text(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.arange(6.0).reshape(3, 2), y=np.array([b"a", b"b", b"a"]))
    X, y, _ = load_table(tmp_path / "d.npz")
    assert y.tolist() == ["a", "b", "a"] and X.shape == (3, 2)


def test_an_upper_case_gz_suffix_still_names_the_ragged_line(tmp_path):
    path = tmp_path / "ragged.TXT.GZ"
    with gzip.open(path, "wt") as handle:
        handle.write("1 2 3\n4 5\n")
    with pytest.raises(ValueError, match=r"line 2 has 2 fields, the first line 3"):
        load_table(path)


def test_a_whitespace_table_splits_tabs_as_pandas_does_when_naming_a_short_line(tmp_path):
    """'1 2' then '3<tab>4' then '5' : the tab line was blamed (one field), not the short one."""
    path = tmp_path / "t.txt"
    path.write_text("1 2\n3\t4\n5\n")
    with pytest.raises(ValueError, match=r"line 3 has 1 field, the first line 2; every row needs one value per "
                                         r"column$"):
        load_table(path)


def test_a_comma_table_named_txt_is_told_to_be_named_csv(tmp_path):
    """A .txt is read as whitespace-separated: 'line 2 has 1 fields, the first line 2' said nothing of why."""
    path = tmp_path / "t.txt"
    path.write_text("dose (mg),2x,y\n" + "".join(f"{i},{i},{i}\n" for i in range(12)))
    with pytest.raises(ValueError, match=r"^'t.txt': line 2 has 1 field, the first line 2; every row needs one "
                                         r"value per column \(a .txt file is read as separated by spaces or tabs, "
                                         r"and its lines hold commas: name it .csv\)$"):
        load_table(path)


def test_a_cut_short_npy_file_is_named(tmp_path):
    np.save(tmp_path / "c.npy", np.ones((10, 3)))
    (tmp_path / "c.npy").write_bytes((tmp_path / "c.npy").read_bytes()[:-20])
    with pytest.raises(ValueError, match=r"^'c.npy' cannot be read as a NumPy array \(Failed to read all data"):
        load_table(tmp_path / "c.npy", target="last")


@pytest.mark.parametrize("header", [True, False])
def test_a_bad_cell_below_blank_lines_is_named_at_its_own_line(tmp_path, header):
    """Blank lines are skipped by the reading: a NaN on line 6 was blamed on line 4."""
    rows = ["1,2,3", "", "4,5,6", "", "7,nan,9"] + ["1,2,3"] * 8
    path = tmp_path / "blank.csv"
    path.write_text("\n".join((["a,b,c"] if header else []) + rows) + "\n")
    where = "column 'b'" if header else "column 2"
    line = 6 if header else 5
    with pytest.raises(ValueError, match=rf"first at line {line}, {where}\)"):
        load_table(path)


def _head(rows):
    """A table's first rows as :func:`srnet.data._has_header` reads them (text, missing cells NaN)."""
    import io

    return pd.read_csv(io.StringIO("\n".join(rows) + "\n"), header=None, dtype=str)


@pytest.mark.parametrize("rows, named", [
    # pandas' header with its index: a corner cell, then 0, 1, ... (one column: where the rows are numbered)
    ([",0,1", "0,0.5,0.7", "1,0.2,0.1"], True),
    ([",0", "0,0.5", "1,0.2", "2,0.9"], True),
    ([",0", "3,0.5", "8,0.2", "5,0.9"], False),  # a missing value and a 0, over rows not numbered: data
    ([",0,1", "3,0.5,0.7", "8,0.2,0.1"], True),  # two names or more: a header whatever the index holds
    (["5,0,1", "1,2,3", "3,4,5"], False),  # no corner cell: a first row of data ending in 0, 1
    (["0", "5", "7"], False),  # one column: a 0 over values is data, not pandas' header of one column
    # whole numbers in equal steps: names only when most lie beyond their column's values by their range
    (["400,410,420", "0.1,0.2,0.3", "0.5,0.6,0.7"], True),  # three columns are enough
    (["500,500,500", "0.1,0.2,0.3", "0.5,0.6,0.7"], False),  # a repeated number names nothing
    (["400,410,425", "0.1,0.2,0.3", "0.5,0.6,0.7"], False),  # unequal steps: data
    (["400,410,430", "0.1,0.2,0.3", "0.5,0.6,0.7"], False),
    (["-30,-20,-10", "0.1,0.2,0.3", "0.5,0.6,0.7"], True),  # signed numbers are whole numbers too
    (["400,410,420", "0.1,?,0.3", "0.5,0.6,0.7"], True),  # a missing value below does not stop the reading
    (["110,120,130", "100,100,100", "102,102,102"], True),  # beyond 102 by more than the range 2
    # exactly the range away is not beyond it: 20 = 10 + 10 and 30 = 15 + 15, only 40 is: one of three
    (["20,30,40", "0,0,0", "10,15,1"], False),
    (["0,10,20", "10,20,100", "20,30,101"], False),  # 0 = 10 - 10 and 10 = 20 - 10: one of three beyond
    (["1,2,3,4", "0,0,100,100", "5,5,101,101"], False),  # two of four beyond: no majority
    # whole numbers counting up with a word: names where the word is no value below
    (["0,1,species", "0.5,0.7,setosa", "0.2,0.1,versicolor"], True),
    (["0,1,setosa", "0.5,0.7,setosa", "0.2,0.1,versicolor"], False),  # a label seen below: data
    (["0,5,virginica", "0.5,0.7,setosa", "0.2,0.1,versicolor"], False),  # not counting: data
])
def test_which_first_rows_name_the_columns(rows, named):
    """The header rules' boundaries (each line would read the other way with a comparison or a count off by
    one): pandas' numbered header, numbers in equal steps far beyond their columns, names counting up."""
    from srnet.data import _has_header

    assert _has_header(_head(rows)) is named


def test_pandas_index_of_a_one_column_table_is_named_as_an_index(tmp_path):
    """DataFrame(x).to_csv() of one column: its header (a corner cell, 0) read as data was 'contains 1 NaN/inf
    value (first at line 1, column 1)'; it is the index message the wider tables get."""
    pd.DataFrame(np.linspace(0, 1, 6)).to_csv(tmp_path / "one.csv")
    with pytest.raises(ValueError, match=r"^'one.csv' starts with an unnamed column numbering the rows"):
        load_table(tmp_path / "one.csv")
