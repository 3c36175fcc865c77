"""Activations srnet ships, loaded by name.

The formulas found by the project's activation study
(``experiments/activation_study.py``) are saved as ``ExpressionActivation``
JSON under ``data/activations/`` at the root of the source tree, with an
``index.json`` that lists each one with its provenance and a few recorded
values (``experiments/make_examples.py`` writes them all; see
``data/activations/README.md``).  ``pip install -e .`` (the README's Quick
start) keeps that folder where this module finds it: two levels above the
package.  ``$SRNET_ACTIVATIONS_DIR`` points elsewhere.

A name is a key of the index, never a path: anything else, ``../x`` and
``a/b`` included, is refused in one line that lists the available names.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from srnet.activations.module import ExpressionActivation
from srnet.jsonio import check_document, malformed, parse_json

ACTIVATIONS_DIR_ENV = "SRNET_ACTIVATIONS_DIR"
INDEX = "index.json"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")


def builtin_dir() -> Path:
    """The folder of shipped activations: ``$SRNET_ACTIVATIONS_DIR``, else ``data/activations`` of the source tree."""
    override = os.environ.get(ACTIVATIONS_DIR_ENV)
    folder = Path(override) if override else Path(__file__).resolve().parents[2] / "data" / "activations"
    if not (folder / INDEX).is_file():
        raise FileNotFoundError(f"no shipped activations at '{folder}' (no {INDEX}): they come with srnet's source "
                                f"tree (pip install -e . from a clone), or set ${ACTIVATIONS_DIR_ENV}")
    return folder


def builtin_index() -> dict[str, dict]:
    """Name -> entry of ``index.json`` (file, formula, provenance, recorded values)."""
    data = parse_json((builtin_dir() / INDEX).read_text(), "activation index")
    check_document(data, "srnet.activation-index", 1, "activation index")
    entries = data.get("activations")
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("file"), str) for e in entries):
        raise malformed("'activations' must be a list of objects with a text 'name' and 'file'", "activation index")
    return {entry["name"]: entry for entry in entries}


def builtin_names() -> list[str]:
    """The names :func:`load_builtin` accepts, sorted."""
    return sorted(builtin_index())


def load_builtin(name: str) -> ExpressionActivation:
    """A shipped activation by name, e.g. ``load_builtin("magic-transfer")``.

    Raises
    ------
    ValueError
        One line listing the available names, for any name that is not one
        of them (paths and names with separators included).
    """
    index = builtin_index()
    if not isinstance(name, str) or not _NAME.match(name) or name not in index:
        raise ValueError(f"unknown activation {name!r}; available: {', '.join(sorted(index))}")
    file = index[name]["file"]
    if file != f"{name}.json":  # the index names files after their keys, nothing else
        raise ValueError(f"index.json: activation {name!r} points at {file!r}, expected '{name}.json'")
    return ExpressionActivation.load(builtin_dir() / file)
