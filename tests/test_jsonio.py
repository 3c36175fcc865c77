"""srnet.jsonio: what srnet writes is valid JSON, and a document it reads is checked field by field, each
problem one line naming the document and the field (what mutation testing found unread: the version shown,
the document's name, the cut of a long value)."""

import json
import math
import re

import numpy as np
import pytest

from srnet.jsonio import as_integer, as_real, as_sequence, check_document, dumps, finite_or_none, parse_json, shown


def test_non_finite_figures_are_written_null_and_numpy_values_plain():
    data = {"r2": float("nan"), "rmse": np.float32(np.inf), "n": np.int64(3), np.int64(1): np.array([1.5, -np.inf]),
            "pair": (np.bool_(True), 2)}
    text = dumps(data)
    assert json.loads(text) == {"r2": None, "rmse": None, "n": 3, "1": [1.5, None], "pair": [True, 2]}
    assert finite_or_none(np.float64(2.5)) == 2.5 and type(finite_or_none(np.float64(2.5))) is float


def test_a_document_of_another_kind_or_version_is_named_with_the_version_it_holds():
    check_document({"format": "srnet-program", "version": 1}, "srnet-program", 1, "program")
    with pytest.raises(ValueError, match=r"^not an srnet program \(missing 'format': 'srnet-program'\)$"):
        check_document({"version": 1}, "srnet-program", 1, "program")
    # another document (a program given as an activation) is named, not called "missing" (it was)
    with pytest.raises(ValueError, match=r"^not an srnet program \(its 'format' is 'other', not 'srnet-program'\)$"):
        check_document({"format": "other", "version": 1}, "srnet-program", 1, "program")
    for version in (2, True, 1.0, "1", None):
        with pytest.raises(ValueError, match=f"^{re.escape(f'unsupported activation format version {version!r}')}$"):
            check_document({"format": "f", "version": version}, "f", 1, "activation")


def test_corrupt_text_is_one_line_naming_the_document():
    with pytest.raises(ValueError, match=r"^formula JSON is corrupt: Expecting value: line 1 column 1"):
        parse_json("nope", "formula")
    with pytest.raises(ValueError, match=r"^program JSON is corrupt: nested too deeply$"):
        parse_json("[" * 100_000, "program")


@pytest.mark.parametrize("length, expected", [(59, "'" + "a" * 57 + "'"), (60, "'" + "a" * 58 + "'"),
                                              (61, "'" + "a" * 56 + "...")])
def test_a_value_is_shown_on_one_line_cut_to_sixty_characters(length, expected):
    text = shown("a" * (length - 2))  # repr adds the two quotes
    assert text == expected and len(text) == min(length, 60)
    assert shown(np.array([[1, 2], [3, 4]])) == "array([[1, 2], [3, 4]])"  # a repr of several lines: one
    assert shown([1, 2, 3], limit=5) == "[1..."


@pytest.mark.parametrize("call, value, message", [
    (as_sequence, 5, "malformed srnet activation: steps must be a list, got 5"),
    (as_integer, 2.0, "malformed srnet activation: steps must be an integer, got 2.0"),
    (as_integer, True, "malformed srnet activation: steps must be an integer, got True"),
    (as_real, "1", "malformed srnet activation: steps must be a number, got '1'"),
    (as_real, 10**400, "malformed srnet activation: steps is too large for a float: 1000000000"),
])
def test_a_field_of_the_wrong_kind_names_the_document_the_field_and_its_value(call, value, message):
    with pytest.raises(ValueError) as excinfo:
        call(value, "steps", "activation")
    assert str(excinfo.value).startswith(message)


def test_fields_of_the_right_kind_come_back_plain():
    assert as_integer(np.int32(4), "n") == 4 and type(as_integer(np.int32(4), "n")) is int
    assert as_real(np.float32(0.5), "c") == 0.5 and type(as_real(3, "c")) is float
    assert as_sequence((1, 2), "s") == (1, 2)
    assert math.isinf(as_real(float("inf"), "c"))  # finiteness is the caller's rule, not the field's kind


def test_keys_dumps_options_and_the_default_document():
    assert json.loads(dumps({float("nan"): 1, float("-inf"): 2, np.float64(0.5): 3})) == {"nan": 1, "-inf": 2,
                                                                                            "0.5": 3}
    assert dumps({"a": [1]}, indent=2) == '{\n  "a": [\n    1\n  ]\n}'  # json.dumps' options pass through
    with pytest.raises(ValueError, match=r"^malformed srnet program: n must be an integer, got 'x'$"):
        as_integer("x", "n")
    for call in (as_sequence, as_real):
        with pytest.raises(ValueError, match=r"^malformed srnet program: "):
            call(None, "n")


def test_json_keys_and_long_doubles_are_written_plainly():
    text = dumps({np.int64(1): 2, float("nan"): 1, np.float32(0.5): np.longdouble(2)})  # TypeError, ValueError
    assert json.loads(text) == {"1": 2, "nan": 1, "0.5": 2.0}


@pytest.mark.skipif(np.finfo(np.longdouble).max <= np.finfo(np.float64).max, reason="longdouble is float64 here")
def test_a_long_double_beyond_float64_is_refused_rather_than_written_null():
    with pytest.raises(ValueError, match=r"is finite but beyond float64's range: JSON would hold it as null$"):
        dumps({"x": np.longdouble("1e400")})


def test_atomic_write_text_writes_whole_readable_files_and_leaves_no_temporary(tmp_path):
    """What every report, result and manifest is written with: the folders made, the text exact (UTF-8), the file
    readable by a team (0644, not mkstemp's 0600), no temporary left beside it; a write that fails leaves the
    file as it was and no temporary either."""
    import os
    import stat

    from srnet.jsonio import TEMPORARY_PREFIX, atomic_write_text

    path = tmp_path / "a" / "b" / "report.json"
    atomic_write_text(path, "ε = 1e-10 — ok\n")
    assert path.read_bytes() == "ε = 1e-10 — ok\n".encode("utf-8")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    atomic_write_text(path, "second")
    assert path.read_text(encoding="utf-8") == "second"
    with pytest.raises(TypeError):
        atomic_write_text(path, b"not text")  # fails inside the write: the old file stays whole
    assert path.read_text(encoding="utf-8") == "second"
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]
    assert not any(p.name.startswith(TEMPORARY_PREFIX) for p in path.parent.iterdir())
