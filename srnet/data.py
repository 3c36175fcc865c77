"""Tables in, validated float64 matrices out.

Everything srnet explains starts as a matrix ``X`` of shape (n_samples,
n_features).  :func:`check_matrix` is the one place the package turns user
input into such a matrix and says, in one line, what is wrong with it;
:func:`load_table` reads the file formats and PMLB datasets the command line
and the experiments accept.

pandas and pmlb are imported inside the readers that need them: together they
take about half a second to import, and validating a matrix should not pay it.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
import re
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

PMLB_CACHE_ENV = "SRNET_PMLB_CACHE"
PMLB_TARGET = "target"  # the label column of every PMLB table

_DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": r"\s+"}
_ARRAY_SUFFIXES = (".npy", ".npz")

#: Fewest rows srnet explains a network on: with fewer, a formula of a few
#: nodes and a least-squares map fits any data, and its R^2 says nothing.
MIN_ROWS = 10


#: Largest whole-number budget, size or seed (what the engine's int64 counters hold).
LARGEST_INTEGER = 2**63 - 1


def check_budget(name: str, value, *, allow_none: bool = False, integer: bool = False, positive: bool = True,
                 minimum=None):
    """Validate a budget or a size (seconds, generations, rows, points, ...).

    The one place srnet checks such numbers, in the API and the command line.

    Parameters
    ----------
    name : str
        What to call the value in the message (``"max_seconds"``, ``"--seconds"``).
    value : number or None
    allow_none : bool, default=False
        None means "no such budget" and is returned as is.
    integer : bool, default=False
        The value must be a whole number (returned as ``int``).
    positive : bool, default=True
        The value must be > 0; else >= 0.
    minimum : number or None
        The value must be >= ``minimum`` (replaces the sign rule).

    Returns
    -------
    int, float or None

    Raises
    ------
    ValueError
        One line naming the budget, the rule and the value: not a number,
        NaN/inf, not whole, or too small.
    """
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if integer and isinstance(value, numbers.Integral):
        number = int(value)  # exactly: a seed of 2**53 + 1 is not 2**53
        if number > LARGEST_INTEGER:
            raise ValueError(f"{name} must be at most 2**63 - 1, got a number of {len(str(number))} digits")
    else:
        try:
            number = float(value)
        except OverflowError:  # an int beyond float64
            number = math.inf if value > 0 else -math.inf
        if not math.isfinite(number):
            raise ValueError(f"{name} must be a finite number, got {number}")
    if integer and not isinstance(number, int):
        if number != math.floor(number):
            raise ValueError(f"{name} must be a whole number, got {value}")
        number = int(number)
        if number > LARGEST_INTEGER:  # 1e19 as a float: torch's seed and numpy's int64 overflowed
            raise ValueError(f"{name} must be at most 2**63 - 1, got {value}")
    shown = int(number) if integer else value
    if minimum is not None:
        if number < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {shown}")
    elif positive and number <= 0:
        raise ValueError(f"{name} must be > 0, got {shown}")
    elif number < 0:
        raise ValueError(f"{name} must be >= 0, got {shown}")
    return number


def check_rows(X, minimum: int = MIN_ROWS, name: str = "X"):
    """Refuse data with fewer than ``minimum`` rows (see :data:`MIN_ROWS`)."""
    n = len(X)
    if n < minimum:
        raise ValueError(f"{name} has {n} row{'s' if n != 1 else ''}; srnet needs at least {minimum} to tell a "
                         f"formula from noise")
    return X


def check_varies(X: np.ndarray, what: str, advice: str) -> np.ndarray:
    """``X`` if some input varies over its rows; else a one-line ValueError: the network at one point is a
    constant, and every figure measured on it is meaningless (LIME's R^2 was -inf)."""
    if not np.ptp(X, axis=0).any():
        raise ValueError(f"every input takes one value on all {len(X)} rows: there is nothing to {what} ({advice})")
    return X


def check_flag(name: str, value) -> bool:
    """``value`` if it is True or False (a NumPy bool too); else a one-line ValueError: a flag given as text
    is true, and ``normalize="no"`` normalised."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def counted(n: int, noun: str) -> str:
    """``"1 column"``, ``"3 columns"``: a count as a message says it ("X has 1 columns")."""
    return f"{n} {noun}{'s' * (n != 1)}"


def nonfinite_count(n: int) -> str:
    """``"1 NaN/inf value"``, ``"3 NaN/inf values"``: how many cells are not finite, as a message says it."""
    return counted(n, "NaN/inf value")


def check_matrix(X, name: str = "X", locate=None) -> np.ndarray:
    """Validate a 2-D numeric array and return it as float64, C-contiguous.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numbers, or strings that parse as numbers.
    name : str, default="X"
        What to call the array in error messages.
    locate : callable, optional
        ``locate(row, column)`` -> where that cell is, for messages (a file's
        line and column name); default ``"row R, column C"``.

    Returns
    -------
    ndarray of shape (n_samples, n_features), dtype float64
        A C-contiguous copy, or ``X`` itself when it already is one.

    Raises
    ------
    ValueError
        One line naming the problem: not 2-D, empty, non-numeric cells, or
        NaN/inf values (with the position of the first one).
    """
    if type(X).__module__.split(".")[0] == "torch":  # a tensor: on the CPU, out of autograd, in a numpy dtype
        X = X.detach().cpu()
        X = X.double() if X.is_floating_point() else X
    if isinstance(X, np.ma.MaskedArray):  # a masked cell is missing: NaN (refused below), not its hidden value
        X = np.ma.filled(X.astype(np.float64), np.nan) if X.dtype.kind in "biuf" else X.filled()
    try:
        raw = np.asarray(X)
    except ValueError:  # nested lists of different lengths: numpy's words name no matrix
        raise ValueError(f"{name} has rows of different lengths; every row needs one value per feature") from None
    if raw.ndim != 2:
        hint = "; reshape a single feature with .reshape(-1, 1)" if raw.ndim == 1 else ""
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); got {raw.ndim}-D "
            f"with shape {raw.shape}{hint}"
        )
    if raw.size == 0:
        raise ValueError(f"{name} is empty: shape {raw.shape}")
    if raw.dtype.kind == "c":
        raise ValueError(f"{name} is complex ({raw.dtype}); srnet needs real numbers")
    if raw.dtype.kind in "mM":  # dates became nanoseconds since 1970
        raise ValueError(f"{name} holds dates or durations ({raw.dtype}); convert them to numbers first")
    try:
        found = first_rejected_cell(raw) if raw.dtype.kind in "OU" else None  # text read as numbers, strictly
        if found is not None:
            raise OverflowError if found[2] else ValueError
        matrix = np.ascontiguousarray(raw, dtype=np.float64)
    except OverflowError:
        raise ValueError(f"{name} holds an integer beyond float64{_first_non_numeric(raw, locate)}") from None
    except (TypeError, ValueError):
        raise ValueError(f"{name} contains non-numeric values{_first_non_numeric(raw, locate)}") from None
    return check_finite(matrix, name, locate)


def check_finite(values: np.ndarray, name: str, locate=None) -> np.ndarray:
    """``values`` (1-D or 2-D floats) if all are finite; else a one-line ValueError that counts the NaN/inf
    values and says where the first is (``locate(row, column)``, as :func:`check_matrix`'s)."""
    bad = ~np.isfinite(values)
    if bad.any():
        first = [int(index) for index in np.argwhere(bad)[0]]
        where = _where(locate, *first) if len(first) == 2 else f"row {first[0]}"
        raise ValueError(f"{name} contains {nonfinite_count(int(bad.sum()))} (first at {where})")
    return values


def _where(locate, row, column) -> str:
    return f"row {row}, column {column}" if locate is None else locate(int(row), int(column))


# A number as a data file writes one: Python's float() also reads "5_1" as 51 and Arabic-Indic digits, a
# typo or a locale's digits read silently as another number
_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)\s*",
                          re.IGNORECASE | re.ASCII)


def number_cell(cell) -> float:
    """``float(cell)``, text read strictly as a number is written (no ``_`` separators, ASCII digits only)."""
    if isinstance(cell, str) and not _NUMBER_TEXT.fullmatch(cell):
        raise ValueError(f"not a number: {cell!r}")
    return float(cell)


def first_rejected_cell(raw: np.ndarray) -> tuple[tuple[int, ...], object, bool] | None:
    """The index and value of the first cell of ``raw`` (in row-major order) that :func:`number_cell` rejects, and
    whether it was a number too long for a float (an overflow) rather than no number at all; None when every cell
    reads."""
    for index, cell in np.ndenumerate(raw):
        try:
            number_cell(cell)
        except OverflowError:
            return index, cell, True
        except (TypeError, ValueError):
            return index, cell, False
    return None


def _first_non_numeric(raw: np.ndarray, locate=None) -> str:
    """Where the first cell that ``float`` rejects is, for an error message."""
    found = first_rejected_cell(raw)
    if found is None:
        return ""
    (row, column), cell, overflow = found
    shown = f"{len(str(cell))} digits" if overflow else "a missing value" if _missing_label(cell) else repr(cell)
    return f" (first at {_where(locate, row, column)}: {shown})"


def check_vector(y, n_samples: int, name: str = "y", locate=None) -> np.ndarray:
    """Validate a 1-D numeric target of known length; return it as float64.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, 1)
    n_samples : int
        The number of rows of the matching ``X``.
    name : str, default="y"

    Returns
    -------
    ndarray of shape (n_samples,), dtype float64

    Raises
    ------
    ValueError
        As :func:`check_matrix`, or when the length differs from ``n_samples``.
    """
    raw = np.asarray(y)
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    if raw.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,); got shape {raw.shape}")
    vector = check_matrix(raw.reshape(-1, 1), name, locate)[:, 0]
    if vector.shape[0] != n_samples:
        raise ValueError(f"{name} has {vector.shape[0]} values but X has {n_samples} rows")
    return vector


def random_generator(random_state) -> np.random.Generator:
    """NumPy's Generator of a ``random_state``: whatever
    ``np.random.default_rng`` takes (None, a non-negative int or a sequence
    of them, a SeedSequence, BitGenerator, RandomState, or a Generator,
    returned as it is), or one line naming the parameter (a negative int, a
    float, a string, a bool)."""
    message = (f"random_state must be None, a non-negative integer (or a sequence of them), or a numpy "
               f"Generator, RandomState or SeedSequence; got {random_state!r}")
    if isinstance(random_state, (bool, np.bool_, float, str, bytes)):
        raise ValueError(message)
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError):
        raise ValueError(message) from None


def check_binary_labels(y: np.ndarray, name: str = "y") -> np.ndarray:
    """``y`` (already numeric) if every value is 0 or 1: the binary
    cross-entropy of labels 1/2 has no lower bound, and training on it ranks
    nothing."""
    values = np.unique(y)
    if not np.isin(values, (0, 1)).all():
        shown = ", ".join(f"{v:g}" for v in values[:5]) + (", ..." if len(values) > 5 else "")
        raise ValueError(f"{name} must hold binary labels 0/1 for a binary task; got {shown}")
    return y


def load_table(source, *, target=None, pmlb_cache=None, download: bool = False):
    """Read a data table from a file or the PMLB collection.

    Parameters
    ----------
    source : str or path-like
        A file, chosen by suffix: ``.csv`` / ``.tsv`` (a header row is
        detected: a word over a column of numbers, or a word that is not one
        of its column's values below beside whole numbers only, such as
        ``0,1,species``; see :func:`_has_header`), whitespace-separated
        ``.txt``, each optionally ``.gz``-compressed; ``.npy`` (a 2-D array);
        ``.npz`` (arrays ``X`` and optionally ``y``, or a single 2-D array).
        Any string that is neither an existing file nor has one of those
        suffixes is taken as a PMLB dataset name.
    target : None, "last", int or str, default=None
        Which column is the target ``y``: None for none (but PMLB datasets
        always split off their ``target`` column, and ``.npz`` files their
        ``y`` array), ``"last"``, a column index, or a header name.
    pmlb_cache : path-like, optional
        Folder of PMLB tables (``<cache>/<name>/<name>.tsv.gz``).  Defaults to
        the ``SRNET_PMLB_CACHE`` environment variable, else
        ``~/.cache/srnet/pmlb`` (under ``$XDG_CACHE_HOME`` when set).
    download : bool, default=False
        Fetch a PMLB table missing from the cache into it (from GitHub);
        without it, a table not cached is a FileNotFoundError.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
    y : ndarray of shape (n_samples,), dtype float64 (or str, for a column of
        text class labels), or None
    feature_names : list of str
        Header names where the source has them, else ``x0``, ``x1``, ...

    Raises
    ------
    FileNotFoundError
        A missing file, or a PMLB dataset that is not cached (and not
        downloaded: the message names the folder searched).
    ValueError
        Unknown PMLB names (with close matches), bad targets, bad values.
    """
    path = Path(source)
    if path.is_file():
        return _load_file(path, target)
    # a folder given as a path ("'d/my data' is neither a file nor a PMLB dataset name"); a bare name stays a
    # PMLB name (run inside a PMLB cache, 'adult' is also its folder)
    if path.is_dir() and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*", str(source)):
        raise IsADirectoryError(f"'{path}' is a folder: give the data file in it (.csv, .tsv, .txt, .npy, .npz)")
    if _table_suffix(path) is not None or path.suffix.lower() in _ARRAY_SUFFIXES:
        raise FileNotFoundError(f"no such file: '{path}'")
    return _load_pmlb(str(source), target, pmlb_cache, download)


def _table_suffix(path: Path) -> str | None:
    """The delimited-text suffix of ``path`` (ignoring ``.gz``; any case), or None."""
    suffixes = [suffix.lower() for suffix in path.suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    return suffix if suffix in _DELIMITERS else None


#: What a damaged file raises on reading (gzip, zip, codecs, a truncated stream).
UNREADABLE = (OSError, EOFError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError)


def _load_file(path: Path, target):
    """A file's table; a damaged one is one ValueError line naming it."""
    import pandas as pd

    try:
        return _read_file(path, target)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:  # ragged rows, an empty stream
        raise ValueError(f"cannot read '{path.name}' as a table: {_one_line(error)}{_separator_hint(path)}") \
            from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read '{path.name}': it is not UTF-8 text (save it as UTF-8)") from None
    except UNREADABLE as error:
        raise ValueError(f"cannot read '{path.name}' (damaged, or not what its suffix says?): "
                         f"{type(error).__name__}: {error}") from None


def _read_file(path: Path, target):
    suffix = path.suffix.lower()
    if suffix in _ARRAY_SUFFIXES:
        with open(path, "rb") as stream:
            magic = stream.read(6)
        if not magic.startswith(b"\x93NUMPY" if suffix == ".npy" else b"PK"):
            kind = "pickled Python objects, which srnet does not unpickle" if magic[:1] == b"\x80" else \
                "no NumPy data (damaged, or another format)"
            raise ValueError(f"'{path.name}' holds {kind}; save a numeric array with numpy.save / numpy.savez")
        try:  # only the reading: a problem of the arrays read (a bad target, a missing label) is no damaged file
            if suffix == ".npz":
                keys, arrays = _read_npz(path)
            else:
                array = np.load(path, allow_pickle=False)
        except MemoryError as error:  # a header claiming more than the file holds (cut short, or damaged)
            raise ValueError(f"'{path.name}' cannot be loaded: {_one_line(error)} (is the file cut short, or its "
                             f"header damaged?)") from None
        except ValueError as error:
            if "allow_pickle" in str(error):
                raise ValueError(
                    f"'{path.name}' holds Python objects, which srnet does not unpickle; save a numeric array"
                ) from None
            if str(error).startswith(f"'{path.name}'"):
                raise
            # NumPy's own words for a damaged or cut-short file do not name it
            raise ValueError(f"'{path.name}' cannot be read as a NumPy array ({error})") from None
        if suffix == ".npz":
            return _npz_table(path, keys, arrays, target)
        if array.dtype.names:  # fields of a record print as "(1, 2.)": no table of numbers
            raise ValueError(f"'{path.name}' holds a structured (record) array with fields "
                             f"{', '.join(array.dtype.names)}; save a plain numeric array (numpy.save)")
        return _split_target(array, None, target, path.name)
    suffix = _table_suffix(path)
    if suffix is None:
        raise ValueError(
            f"cannot tell the format of '{path}': use .csv, .tsv, .txt (optionally .gz), .npy or .npz"
        )
    table, names = _read_delimited(path, _DELIMITERS[suffix])
    return _split_target(table, names, target, path.name,
                         line_of=lambda row: _data_line(path, row, header=names is not None),
                         text_of=lambda column: _text_column(path, _DELIMITERS[suffix], names is not None, column))


def _text_column(path: Path, delimiter: str, header: bool, column: int) -> np.ndarray:
    """A column of a text table as the file spells it: class labels such as "NA" (North America) or "None"
    are classes, where pandas reads them as missing values."""
    import pandas as pd

    frame = pd.read_csv(path, sep=delimiter, header=0 if header else None, usecols=[column], dtype=str,
                        keep_default_na=False)
    return frame.iloc[:, 0].to_numpy()


def _open_text(path: Path, **options):
    """A text table (optionally .gz) opened for reading as UTF-8, undecodable bytes replaced."""
    import gzip

    return (gzip.open if path.suffix.lower() == ".gz" else open)(path, "rt", encoding="utf-8", errors="replace",
                                                                 **options)


def _first_line(path: Path) -> str:
    """The file's first line ("" where it cannot be read)."""
    try:
        with _open_text(path) as f:
            return f.readline()
    except (OSError, EOFError):
        return ""


def _ends_with(path: Path, delimiter: str) -> bool:
    """Whether the file's first line ends with the delimiter (a trailing separator, not a column of "NA")."""
    return delimiter in (",", "\t") and _first_line(path).rstrip("\r\n").endswith(delimiter)


def has_name_row(source) -> bool | None:
    """Whether a text table's first row names its columns, as :func:`load_table` reads it (None for other
    sources: .npy and .npz files, PMLB names); ``source`` is a path: what a user is told, since a first row of
    numbers may be either."""
    path = Path(source)
    suffix = _table_suffix(path) if path.is_file() else None
    if suffix is None:
        return None
    try:
        head = _head(path, _DELIMITERS[suffix])
    except (ValueError, OSError):  # (load_table read it: a file changed since, or unreadable: nothing to say)
        return None
    return bool(len(head)) and _has_header(head)


#: Rows read to tell whether the first one is a header.
HEADER_SAMPLE = 1000


def _head(path: Path, delimiter: str):
    """The table's first :data:`HEADER_SAMPLE` rows as text, the first row among them (to tell a header)."""
    import pandas as pd

    return pd.read_csv(path, sep=delimiter, header=None, nrows=HEADER_SAMPLE, dtype=str)


def _read_delimited(path: Path, delimiter: str) -> tuple[np.ndarray, list[str] | None]:
    """Read a text table, its first row a header or not (:func:`_has_header`)."""
    import pandas as pd

    try:
        head = _head(path, delimiter)
    except pd.errors.EmptyDataError:
        head = None
    if head is None or not len(head):
        raise ValueError(f"'{path}' holds no data")
    has_header = _has_header(head)
    frame = pd.read_csv(path, sep=delimiter, header=0 if has_header else None)
    unnamed = not has_header or str(frame.columns[-1]).startswith("Unnamed: ")
    if frame.shape[1] > 1 and unnamed and frame.iloc[:, -1].isna().all() and _ends_with(path, delimiter):
        # "a,b,y," on every line
        shown = {",": ",", "\t": "tab"}.get(delimiter, delimiter)
        raise ValueError(f"every line of '{path.name}' ends with a separator ({shown!r}): an empty last column; "
                         f"remove the trailing separators")
    if frame.isna().to_numpy().any():  # pandas pads a short row with NaN: name the row instead
        _refuse_ragged(path, delimiter)
    names = [str(column).strip() for column in frame.columns] if has_header else None
    if names:  # pandas renames a repeated name ('a' -> 'a.1', a column the file does not have): refuse it
        header = [str(cell).strip() for cell in head.iloc[0]]
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise ValueError(f"'{path.name}' names more than one column {', '.join(map(repr, repeated))}: "
                             f"give every column its own name")
    if names and (names[0] == "" or names[0].startswith("Unnamed: 0")) and len(frame) > 1 \
            and _is_row_index(frame.iloc[:, 0]):
        raise ValueError(f"'{path.name}' starts with an unnamed column numbering the rows: an index written with "
                         f"the table (pandas' to_csv, R's write.csv); save it without (to_csv(..., index=False), "
                         f"write.csv(..., row.names=FALSE)), or drop that column")
    if names:  # an empty header cell: pandas names it 'Unnamed: 1', a name the file does not have
        blank = [j for j, cell in enumerate(head.iloc[0]) if not isinstance(cell, str) or not cell.strip()]
        if blank:
            raise ValueError(f"'{path.name}' names its columns in its first row but leaves column {blank[0] + 1} "
                             f"unnamed: give every column a name")
    return frame.to_numpy(), names


def _separator_hint(path: Path) -> str:
    """"; its first line is separated by semicolons ..." for a .csv whose first line has semicolons (Excel's
    in locales with a decimal comma) or tabs, and no commas; "; its first line is a comment ..." for a table
    whose first line starts with '#' (pandas' "Expected 1 fields in line 2, saw 4" said neither); else ""."""
    if _table_suffix(path) is None:
        return ""
    first = _first_line(path)
    if first.lstrip().startswith("#"):
        return "; its first line is a comment ('#'): remove the comment lines"
    if _table_suffix(path) != ".csv":
        return ""
    name = _separator_named(first) if "," not in first else None
    if name in ("semicolons", "tabs"):
        return (f"; its first line is separated by {name}, and .csv splits on commas: save it with commas "
                f"(and decimal points), or as .tsv for tabs")
    return ""


def _data_line(path: Path, row: int, *, header: bool) -> int:
    """The file line (from 1) of data row ``row`` (from 0) of a text table: blank lines, which the reading
    skips, are counted (a NaN cell below one was blamed on the line above it)."""
    seen = -1 if header else 0  # the header is the first line that is not blank
    with _open_text(path) as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                if seen == row:
                    return number
                seen += 1
    return row + (2 if header else 1)  # not found (cannot happen for a row read): the count without blanks


def _refuse_ragged(path: Path, delimiter: str) -> None:
    """Raise naming the first line whose field count is not the first line's (a row cut short, or a header
    of more names than the rows have fields), if any."""
    import csv
    import io

    try:
        with _open_text(path, newline="") as handle:
            # whitespace-separated: any run of spaces and tabs, as pandas splits it (a tab read as one field
            # blamed a valid line)
            rows = (line.split() for line in handle) if delimiter == r"\s+" else csv.reader(handle, delimiter=delimiter)
            width = None
            for number, row in enumerate(rows, start=1):
                if not row:
                    continue
                if width is None:
                    width = len(row)
                elif len(row) != width:
                    commas = delimiter == r"\s+" and any("," in field for field in row)  # a comma file named .txt
                    raise ValueError(f"'{path.name}': line {number} has {counted(len(row), 'field')}, the first "
                                     f"line {width}; every row needs one value per column" + (
                                         f" (a {path.suffix} file is read as separated by spaces or tabs, and its "
                                         f"lines hold commas: name it .csv)" if commas else ""))
    except (OSError, csv.Error, EOFError, io.UnsupportedOperation):
        return  # the table's own reading said what it could


def _is_row_index(column) -> bool:
    """Whether ``column`` numbers the rows: 0..n-1 (pandas) or 1..n (R), in any order (a shuffled frame)."""
    try:
        values = sorted(int(v) for v in column if float(v) == int(v))
    except (TypeError, ValueError, OverflowError):
        return False
    return len(values) == len(column) and values in (list(range(len(column))), list(range(1, len(column) + 1)))


def _has_header(head) -> bool:
    """Whether the first row of ``head`` (the table's first rows, as text) names the columns.

    It does when a cell of it is text over a column of numbers (``length``);
    or when a cell of it is text that is not one of its column's values below
    (``species`` over labels) and its numbers, if any, are whole numbers
    written as such, counting up (``0,1,species``, ``2019,2020,country``;
    ``3,0,1,versicolor`` is data): a headerless
    table's first row holds measurements (``5.1,3.5,Iris-virginica``, its
    label perhaps the only one of its class), and a text cell that comes
    back below is a label either way; or when its cells are whole numbers in
    equal steps far beyond the values below (``400,410,420``: see
    :func:`_numbered_names`); or when it is pandas' numbered header
    (``DataFrame(X).to_csv(index=False)`` writes 0, 1, ...), unless the first
    column goes on counting below it (1, 2, 3, ...: data starting with an
    index column)."""
    first, rest = [str(cell).strip() for cell in head.iloc[0]], head.iloc[1:]
    if len(first) >= 2 and head.iloc[0].isna().iloc[0] and first[1:] == [str(j) for j in range(len(first) - 1)]:
        # DataFrame(X).to_csv() with its index: an empty corner cell, then 0, 1, ...; under one name, only where
        # the first column below numbers the rows 0, 1, 2, ... (a first row of data may be a missing value and 0)
        below = [str(cell).strip() for cell in rest.iloc[:, 0]]
        if len(first) > 2 or below == [str(j) for j in range(len(below))]:
            return True
    if len(first) > 1 and first == [str(j) for j in range(len(first))]:
        below = [str(cell).strip() for cell in rest.iloc[:, 0]]
        return below != [str(j) for j in range(1, len(below) + 1)]
    # a name has a letter or a digit: ?, . or - over numbers is a missing value in a first row of data
    text = [j for j, cell in enumerate(first) if not _is_number(cell) and any(c.isalnum() for c in cell)]
    if any(all(_is_number(cell) for cell in rest.iloc[:, j]) for j in text):
        return True
    numbers = [cell for cell in first if _is_number(cell)]
    whole = all(cell.lstrip("+-").isdigit() for cell in numbers)
    if len(first) >= 3 and len(numbers) == len(first) and whole and len(rest):
        return _numbered_names(first, rest)
    # names count up (0, 1, ...; 2019, 2020, ...): whole numbers in another order are a first row of data
    # (3,0,1,versicolor, its label seen nowhere below, lost the row and named the columns x3, x0, x1)
    counting = whole and all(int(b) - int(a) == 1 for a, b in zip(numbers, numbers[1:]))
    return counting and any(first[j] not in {str(value).strip() for value in rest.iloc[:, j]} for j in text)


_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
#: What to do about numbers written with commas (they read as text).
_COMMA_NUMBERS = ("its numbers are written with commas (decimal commas, or thousands separators): save them as "
                  "plain numbers with decimal points")


def _decimal_commas(table: np.ndarray) -> bool:
    """Whether the table's first text cell that is no number is one written with a decimal comma (0,0236)."""
    for cell in table[:1].ravel():
        if isinstance(cell, str) and not _is_number(cell):
            return bool(_DECIMAL_COMMA.fullmatch(cell.strip()))
    return False


def _numbered_names(first: list[str], rest) -> bool:
    """Whether a first row of whole numbers in equal steps names the columns (wavelengths 400, 410, 420, ...;
    years; positions 1, 2, 3): when most of them lie beyond their column's values below by more than those
    values' own range.  Read as data, such a row widened the explanation box 400-fold and the formula was
    nonsense; a first row of data lies among the values below it, or next to them (a sorted table's
    minimum)."""
    import pandas as pd

    values = [int(cell) for cell in first]
    steps = {b - a for a, b in zip(values, values[1:])}
    if len(steps) != 1 or steps == {0}:
        return False
    below = rest.apply(lambda column: pd.to_numeric(column, errors="coerce"))
    low, high = below.min().to_numpy(dtype=float), below.max().to_numpy(dtype=float)
    # beyond the range by more than its width: a sorted table's first row is its minimum, just below the rest
    width = high - low
    far = [bool(value < lo - w or value > hi + w) for value, lo, hi, w in zip(values, low, high, width)]
    return 2 * sum(far) > len(values)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _is_number(cell) -> bool:
    try:
        number_cell(cell)
    except (TypeError, ValueError):
        return False
    return True


def _read_npz(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    """The names of an ``.npz`` archive's arrays, and those srnet uses (``X`` and ``y``, or its only one)."""
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        wanted = [key for key in ("X", "y") if key in keys] if "X" in keys else keys if len(keys) == 1 else []
        return keys, {key: archive[key] for key in wanted}


def _npz_table(path: Path, keys: list[str], arrays: dict[str, np.ndarray], target):
    if "X" in keys:
        if target is not None:
            raise ValueError(f"'{path.name}' holds an array X (and y), so no column is the target: give no "
                             f"target (no --target)")
        # named as in the file: a problem of its arrays is not a damaged file
        X = check_matrix(arrays["X"], f"'{path.name}' array X")
        y = arrays.get("y")
        if y is not None:  # text class labels as a CSV's (they were "non-numeric values"); bytes decoded
            y = y.astype(str) if y.dtype.kind == "S" else y
            y = (_target_values(y, X.shape[0], f"'{path.name}' array y") if y.dtype.kind == "U" and y.ndim == 1
                 else check_vector(y, X.shape[0], name=f"'{path.name}' array y"))
        return X, y, _default_names(X.shape[1])
    if len(keys) != 1:
        raise ValueError(
            f"'{path.name}' must hold arrays 'X' (and 'y') or one 2-D array; it holds {keys}"
        )
    return _split_target(arrays[keys[0]], None, target, path.name)


def _split_target(table, names: list[str] | None, target, label: str, line_of=None, text_of=None):
    """Cut the target column out of a 2-D table and validate both parts.  ``line_of(row)``: the file line of a
    row (a text file's), for messages that point at the line and the column's name; ``text_of(column)``: a
    column as the file spells it (read again for class labels)."""
    table = np.asarray(table)
    if table.ndim != 2:
        raise ValueError(f"'{label}' must hold a 2-D table; got shape {table.shape}")
    given_names = names is not None
    if table.shape[0] == 0:  # (was "is empty: shape (0, 1)", the features' shape, of a table of two columns)
        raise ValueError(f"'{label}' has no data rows" + (" (a name row alone)" if given_names else ""))
    names = names or _default_names(table.shape[1])

    def locator(columns):
        if line_of is None:
            return None
        return lambda row, column: (f"line {line_of(row)}, column " + (f"'{names[columns[column]]}'"
                                    if given_names else f"{columns[column] + 1}"))

    if target is None:
        # text labels in the last column, pandas' missing-value reads of "NA" or "None" among them (a table of
        # no rows has none: all() of nothing was True)
        labels = [c for c in table[:, -1] if not (isinstance(c, float) and math.isnan(c))]
        last_text = table.shape[1] > 1 and len(labels) > 0 and all(isinstance(c, str) and not _is_number(c)
                                                                   for c in labels)
        try:
            return check_matrix(table, f"'{label}'", locator(list(range(table.shape[1])))), None, names
        except ValueError as error:
            # '1;2;3': unsplit (a header over no rows has no cell to look at)
            if text_of is not None and table.shape[1] == 1 and table.size and _separator_note(table[0, 0]):
                raise ValueError(f"{error}{_separator_note(table[0, 0])}") from None
            if _decimal_commas(table):  # "0,0236" in a .tsv: every cell text, the last too
                raise ValueError(f"{error}; {_COMMA_NUMBERS}") from None
            if last_text:  # text labels in the last column: the target not named
                raise ValueError(f"{error}; is the last column the target? give it (--target last)") from None
            raise
    try:
        column = _target_column(target, names, label)
    except ValueError as error:  # 'a;b;y' one name: no column 'y' (--target last was told of the semicolons)
        note = _separator_note(names[0]) if text_of is not None and len(names) == 1 else ""
        raise ValueError(f"{error}{note}") from None
    features = [j for j in range(table.shape[1]) if j != column]
    if not features:
        hint = _separator_note(table[0, 0]) if table.size and text_of is not None else ""  # a text file's
        raise ValueError(f"'{label}' has only the target column and no features{hint}")
    try:
        X = check_matrix(table[:, features], f"'{label}'", locator(features))
    except ValueError as error:
        if _decimal_commas(table[:, features]):
            raise ValueError(f"{error}; {_COMMA_NUMBERS}") from None
        raise
    values = table[:, column]
    texts = [cell.strip() for cell in values if isinstance(cell, str) and not _is_number(cell)]
    if texts and len(texts) == len(values) and all(_DECIMAL_COMMA.fullmatch(cell) for cell in texts):
        # every target a number with a comma ('5,25'): read as text, they were class labels, one per value
        raise ValueError(f"target column '{names[column]}' of '{label}' holds numbers written with commas (such as "
                         f"'{texts[0]}': decimal commas, or thousands separators): save them as plain numbers with "
                         f"decimal points")
    if text_of is not None and texts:
        values = text_of(column)  # class labels: "NA" is a class, not a missing label
    y = _target_values(values, X.shape[0], names[column], locator([column]))
    return X, y, [names[j] for j in features]


def _separator_named(cell) -> str | None:
    """The separator a cell of a table read as one column holds ("semicolons", ...), if any."""
    cell = str(cell).strip()
    return next((name for mark, name in ((";", "semicolons"), ("\t", "tabs"), (",", "commas"), (" ", "spaces"))
                 if mark in cell), None)


def _separator_note(cell) -> str:
    """" (its rows are separated by semicolons, ...)" for a one-column table whose cell holds a separator
    the file's suffix does not split on; else ""."""
    other = _separator_named(cell)
    return (f" (its rows are separated by {other}, which the file's suffix does not split on: .csv splits on "
            f"commas, .tsv on tabs, .txt on spaces)" if other else "")


_MISSING_MARKS = frozenset({"", "?", "-", ".", "na", "n/a", "nan", "null", "none", "missing"})


def _target_values(raw: np.ndarray, n_samples: int, name: str, locate=None) -> np.ndarray:
    """A target column: numbers as float64 (checked), or class labels as text
    ("yes"/"no", "setosa", ...) when any cell is not a number."""
    texts = [row for row, cell in enumerate(raw) if isinstance(cell, str) and not _is_number(cell)]
    if locate is None:  # a column of an array: its row alone (its column 0 named another column than 'x1')
        def locate(row, column):
            return f"row {row}"
    if not texts:
        return check_vector(raw, n_samples, name=f"target column '{name}'", locate=locate)
    if len(texts) < len(raw) and all(str(raw[row]).strip().lower() in _MISSING_MARKS for row in texts):
        # numbers with a '?' among them: a missing value, not a third class '?' (nor a regressor's "text labels")
        where = locate(texts[0], 0)
        raise ValueError(f"target column '{name}' holds {raw[texts[0]]!r} among numbers (first at {where}): a missing "
                         f"value? drop those rows or fill them in")
    missing = [row for row, cell in enumerate(raw) if not isinstance(cell, str) and not _is_number(cell)
               or isinstance(cell, float) and math.isnan(cell) or str(cell).strip() == ""]  # ' ' named class ''
    if missing:
        raise ValueError(f"target column '{name}' holds text labels but row {missing[0]} has none")
    return np.array([str(cell).strip() for cell in raw])


def _target_column(target, names: list[str], label: str) -> int:
    n_columns = len(names)
    if target == "last":
        return n_columns - 1
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -n_columns <= target < n_columns:
            raise ValueError(f"target column {target} is out of range for '{label}' with "
                             f"{counted(n_columns, 'column')}")
        return int(target) % n_columns
    if isinstance(target, str):
        if target not in names:
            raise ValueError(f"'{label}' has no column '{target}'; columns: {', '.join(names)}")
        return names.index(target)
    raise ValueError(f"target must be None, 'last', a column index or a column name; got {target!r}")


def _default_names(n_features: int) -> list[str]:
    return [f"x{j}" for j in range(n_features)]


def pmlb_cache_dir(pmlb_cache=None) -> Path:
    """The folder PMLB tables are read from (and downloaded to).

    Parameters
    ----------
    pmlb_cache : path-like, optional
        Used when given; else ``$SRNET_PMLB_CACHE``; else
        ``$XDG_CACHE_HOME/srnet/pmlb`` (``~/.cache/srnet/pmlb``).

    Returns
    -------
    Path
    """
    if pmlb_cache is not None:
        return Path(pmlb_cache)
    if os.environ.get(PMLB_CACHE_ENV):
        return Path(os.environ[PMLB_CACHE_ENV])
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "srnet" / "pmlb"


def pmlb_cached(cache, name: str) -> bool:
    """Whether PMLB table ``name`` is in the cache folder ``cache``."""
    return (Path(cache) / name / f"{name}.tsv.gz").is_file()


def pmlb_name_hint(name: str) -> str:
    """"; did you mean 'x'?" for a name close to PMLB's, else ""."""
    import pmlb

    known = sorted(set(pmlb.dataset_names) | set(pmlb.classification_dataset_names)
                   | set(pmlb.regression_dataset_names))
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    # the names that begin with it too: "wine" is wine_recognition or wine_quality_red (difflib found none)
    close += [c for c in known if c.lower().startswith(name.lower()) and c not in close][:3 - len(close)]
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def fetch_pmlb_frame(name: str, pmlb_cache=None, *, download: bool = False):
    """PMLB table ``name`` as a DataFrame, missing values kept (NaN), through
    ``pmlb.fetch_data``: read from the cache folder, or (``download=True``)
    downloaded into it: srnet downloads nothing unless asked, as ``srnet bench
    --download``.  A name that is neither cached nor PMLB's is a ValueError; a
    table that is not cached (and not downloaded) is a FileNotFoundError."""
    import pmlb

    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*", name):  # as every PMLB name is (parity5+5)
        # '../x' read <cache>/../x/../x.tsv.gz, and an absolute name ignored the cache
        raise ValueError(f"'{name}' is neither a file nor a PMLB dataset name (letters, digits, _ . + -)")
    cache = pmlb_cache_dir(pmlb_cache)
    cached = pmlb_cached(cache, name)
    if not cached and name not in pmlb.dataset_names:
        if Path(name).is_dir():  # ("is neither a file nor a PMLB dataset" of a folder one can see)
            raise IsADirectoryError(f"'{name}' is a folder, and no PMLB dataset: give the data file in it (.csv, "
                                    f".tsv, .txt, .npy, .npz)")
        raise ValueError(f"'{name}' is neither a file nor a PMLB dataset{pmlb_name_hint(name)}")
    where = (f"put {name}/{name}.tsv.gz there, point --pmlb-cache (pmlb_cache=) or ${PMLB_CACHE_ENV} at a folder "
             f"that has it")
    if not cached and not download:
        raise FileNotFoundError(f"PMLB dataset '{name}' is not in the cache folder '{cache}': {where}, or let srnet "
                                f"download it there (--download; download=True)")
    import pandas as pd

    def damaged(why: str) -> ValueError:
        return ValueError(f"the cached PMLB table '{name}' in '{cache}' cannot be read (damaged?): {why}; delete it "
                          f"or put an intact copy there")

    try:
        frame = pmlb.fetch_data(name, local_cache_dir=str(cache), dropna=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise damaged(_one_line(error)) from None
    except UNREADABLE as error:  # urllib's URLError is an OSError
        if cached:
            raise damaged(f"{type(error).__name__}: {error}") from None
        raise FileNotFoundError(
            f"PMLB dataset '{name}' is not in the cache folder '{cache}' and could not be "
            f"downloaded ({error}); {where}"
        ) from None
    # every PMLB table has rows and its label column: a gzip of one line of text reads as a table of no rows
    # whose one column is that line, which srnet bench called "every row ... has a missing value"
    if PMLB_TARGET not in frame.columns:
        shown = ", ".join(str(column) for column in frame.columns[:5]) + (", ..." if frame.shape[1] > 5 else "")
        raise damaged(f"no '{PMLB_TARGET}' column (its header: {shown})")
    if not len(frame):
        raise damaged("no rows")
    return frame


def _load_pmlb(name: str, target, pmlb_cache, download: bool = False):
    # missing values are kept: check_matrix reports them, nothing is dropped silently
    frame = fetch_pmlb_frame(name, pmlb_cache, download=download)
    names = [str(column) for column in frame.columns]
    if target is None:
        target = PMLB_TARGET
    elif PMLB_TARGET in names:  # another column is the target: the table's own label is no input either
        target = names[_target_column(target, names, name)]
        if target != PMLB_TARGET:
            frame = frame.drop(columns=[column for column in frame.columns if str(column) == PMLB_TARGET])
            names = [str(column) for column in frame.columns]
    return _split_target(frame.to_numpy(), names, target, name)


def widen_box(box, factor: float = 0.5) -> np.ndarray:
    """A box widened by ``factor`` of its width on each side, (n_inputs, 2)."""
    box = np.asarray(box, dtype=np.float64)
    width = box[:, 1] - box[:, 0]
    return np.column_stack([box[:, 0] - factor * width, box[:, 1] + factor * width])


def data_box(X) -> np.ndarray:
    """The bounding box of the rows of X, (n_inputs, 2)."""
    X = np.asarray(X, dtype=np.float64)
    return np.column_stack([X.min(axis=0), X.max(axis=0)])


# ---------------------------------------------------------------- labels

#: What a network (and its labels) can be: one name per task, every module reads it from here.
TASKS = ("regression", "classification")
MAX_GUESSED_CLASSES = 20  # most distinct integer labels a table is guessed to be a classification with


def seeded_split(*arrays, train_size, random_state: int, stratify=None):
    """scikit-learn's ``train_test_split``, stratified by ``stratify`` where
    that is possible, else plain (a class with one row, or more classes than
    rows on a side).  Returns the parts and whether they are stratified."""
    from sklearn.model_selection import train_test_split

    if stratify is not None:
        try:
            return (*train_test_split(*arrays, train_size=train_size, random_state=random_state,
                                      stratify=stratify), True)
        except ValueError:  # stratification impossible: split plainly
            pass
    return (*train_test_split(*arrays, train_size=train_size, random_state=random_state), False)


def _numeric(labels: np.ndarray) -> bool:
    return labels.dtype.kind in "iuf"


def label_array(labels) -> np.ndarray:
    """Class labels as an array, a list or tuple mixing text with other values kept as objects, for
    :func:`class_indices` to refuse: numpy reads [1, "1", "a"] as text, and 1 and "1" became one class."""
    if isinstance(labels, (list, tuple)) and any(isinstance(v, str) for v in labels):
        return np.asarray(labels, dtype=object)
    return np.asarray(labels)


def _missing_label(value) -> bool:
    """None, NaN or pandas' NA (whose ``!=`` answers NA, "ambiguous" as a truth value)."""
    try:
        return value is None or bool(value != value)
    except TypeError:
        return True


def check_labels_present(labels) -> None:
    """Refuse, in one line, class labels of which any is missing (None, NaN or pandas' NA), whatever their shape
    (None itself: no labels, for the caller to refuse)."""
    if labels is None:
        return
    values = np.asarray(labels, dtype=object).reshape(-1)
    missing = [i for i, value in enumerate(values.tolist()) if _missing_label(value)]
    if missing:
        raise ValueError(f"class labels are missing (None, NaN or NA) on {counted(len(missing), 'row')}, first row "
                         f"{missing[0]}; drop those rows or give them a class")


def class_indices(labels) -> tuple[np.ndarray, np.ndarray]:
    """Any label encoding as class indices 0..K-1.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        -1/1, floats, strings, booleans, non-contiguous integers, ...

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The distinct original labels, sorted: class ``k`` is ``classes[k]``.
    indices : ndarray of shape (n_samples,), dtype int64
    """
    labels = label_array(labels)
    if labels.ndim != 1:
        raise ValueError(f"class labels must be 1-D; got shape {labels.shape}")
    check_labels_present(labels)
    if labels.dtype.kind == "O":
        texts = [value for value in labels.tolist() if isinstance(value, str)]
        if texts and len(texts) != len(labels):  # 1 and "1" would become one class, or none compare
            number = next(value for value in labels.tolist() if not isinstance(value, str))
            raise ValueError(f"class labels mix text and other values (such as {texts[0]!r} and {number!r}); "
                             f"give every label the same kind")
        labels = labels.astype(str) if texts else labels
    try:
        classes, indices = np.unique(labels, return_inverse=True)
    except TypeError:  # objects that do not compare
        raise ValueError(f"class labels must be numbers or text; got values such as {labels[0]!r}") from None
    return classes, indices.astype(np.int64).reshape(-1)


def guess_task(labels) -> tuple[str, str]:
    """A table's task from its label values alone, and why, in a few words.

    Classification when the labels are not numbers, hold two distinct values
    (-1/1, 0/1, 1.0/2.0, ...), or at most :data:`MAX_GUESSED_CLASSES`
    distinct integers; regression otherwise.
    """
    labels = np.asarray(labels)
    if not _numeric(labels):
        return "classification", "its labels are not numbers"
    distinct = np.unique(labels)
    if len(distinct) == 2:
        return "classification", f"2 distinct values: {distinct[0]:g}, {distinct[1]:g}"
    if np.all(np.isfinite(distinct)) and np.all(distinct == np.round(distinct)) \
            and len(distinct) <= MAX_GUESSED_CLASSES:
        return "classification", f"{len(distinct)} distinct integers"
    return "regression", f"{len(distinct)} distinct numbers"


def check_task(labels, task: str, what: str) -> None:
    """Refuse a task the labels cannot have, in one line.

    Regression needs finite numbers; classification at least two distinct labels.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    labels = np.asarray(labels)
    if task == "regression":
        if not _numeric(labels):
            example = next((str(v) for v in labels if not _is_number(v)), str(labels[0]) if len(labels) else "")
            raise ValueError(f"{what} cannot be a regression: its labels are not numbers (e.g. {example!r}); "
                             f"use --task classification")
        if not np.all(np.isfinite(labels)):
            raise ValueError(f"{what} cannot be a regression: its target has NaN/inf values")
    elif len(class_indices(labels)[0]) < 2:
        raise ValueError(f"{what} cannot be a classification: its labels hold fewer than 2 classes")


def caller_outside_srnet() -> int:
    """The ``stacklevel`` that names, from the function calling this one, the first frame outside srnet: a
    warning raised deep in a fit pointed at srnet's own lines (``skip_file_prefixes`` needs Python 3.12)."""
    root = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(root):
        frame, level = frame.f_back, level + 1
    return level
