"""What srnet ships under data/ (issue 18): example networks, found activations, results' provenance.

Each example network loads without unpickling code and reproduces the outputs
recorded when experiments/make_examples.py trained it; each shipped
activation loads by name (never by path) and reproduces its recorded values.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from srnet.activations import ExpressionActivation, builtin_names, load_builtin
from srnet.activations.builtin import ACTIVATIONS_DIR_ENV, builtin_dir
from srnet.data import load_table
from srnet.networks import load_network, network_from_state_dict, parse_architecture

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "data" / "examples"
MANIFEST = json.loads((EXAMPLES / "examples.json").read_text())["examples"]
SIZE_LIMIT = 100_000  # bytes per example file


def test_the_examples_cover_regression_physics_and_a_classifier():
    assert {e["name"] for e in MANIFEST} >= {"sine", "coulomb", "iris"}
    assert any(e["architecture"].endswith(":softmax") for e in MANIFEST)
    assert any(len(e["columns"]) == 4 and e["task"] == "regression" for e in MANIFEST)  # 3 inputs + target


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["name"] for e in MANIFEST])
def test_example_network_loads_weights_only_and_matches_its_recorded_outputs(entry):
    network_file = EXAMPLES / entry["network"]
    for name in ("network", "data", "expected_outputs"):
        assert (EXAMPLES / entry[name]).stat().st_size < SIZE_LIMIT, entry[name]
    state_dict = torch.load(network_file, weights_only=True, map_location="cpu")
    assert all(isinstance(v, torch.Tensor) for v in state_dict.values())
    direct = network_from_state_dict(state_dict, parse_architecture(entry["architecture"]))
    loaded = load_network(network_file, entry["architecture"])  # what `srnet explain --arch` runs

    X, y, names = load_table(EXAMPLES / entry["data"], target="last")
    assert [*names, entry["target"]] == entry["columns"] and len(X) == entry["rows"]
    expected = np.loadtxt(EXAMPLES / entry["expected_outputs"], delimiter=",", skiprows=1, ndmin=2)
    with torch.no_grad():
        inputs = torch.as_tensor(X, dtype=torch.float32)
        for network in (direct, loaded):
            np.testing.assert_allclose(network(inputs).double().numpy(), expected, rtol=1e-5, atol=1e-6)
    if entry["task"] == "classification":
        assert np.mean(expected.argmax(axis=1) == y) == pytest.approx(entry["training"]["accuracy"])
    else:
        residual = expected[:, 0] - y
        assert 1 - residual @ residual / ((y - y.mean()) @ (y - y.mean())) > 0.99


def test_example_commands_name_their_own_files():
    for entry in MANIFEST:
        assert f"data/examples/{entry['network']}" in entry["command"]
        assert f"--arch {entry['architecture']}" in entry["command"]


# ------------------------------------------------------------- activations

INDEX = json.loads((ROOT / "data" / "activations" / "index.json").read_text())["activations"]


def test_the_study_formulas_are_shipped():
    assert {"magic-sin", "magic-transfer", "cos-cos-sin"} <= set(builtin_names())
    formulas = {e["name"]: e["formula"] for e in INDEX}
    assert formulas["magic-transfer"] == "1.641*sin(2*x + sin(2*x))"


@pytest.mark.parametrize("entry", INDEX, ids=[e["name"] for e in INDEX])
def test_shipped_activation_loads_by_name_and_reproduces_its_values(entry):
    act = load_builtin(entry["name"])
    assert isinstance(act, ExpressionActivation) and act.formula == entry["formula"]
    with torch.no_grad():
        values = act(torch.tensor(entry["x"], dtype=torch.float64)).numpy()
        single = act(torch.tensor(entry["x"], dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(values, entry["values"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(single, entry["values"], rtol=1e-5, atol=1e-5)
    assert entry["provenance"] and entry["study_command"].startswith("python experiments/activation_study.py")


@pytest.mark.parametrize("name", ["nope", "../activations/magic-sin", "magic-sin.json", "/etc/passwd",
                                  "index", "Magic-Sin", "magic-sin/", "", "..", "a\\b"])
def test_unknown_names_and_paths_are_refused_in_one_line_listing_the_names(name):
    with pytest.raises(ValueError) as error:
        load_builtin(name)
    message = str(error.value)
    assert "\n" not in message and "available: cos-cos-sin, magic-sin, magic-transfer" in message


def test_a_name_is_not_a_path_even_when_the_file_exists(tmp_path, monkeypatch):
    outside = tmp_path / "evil.json"
    load_builtin("magic-sin").save(outside)
    monkeypatch.chdir(builtin_dir())
    relative = os.path.relpath(outside.with_suffix(""), builtin_dir())
    with pytest.raises(ValueError, match="unknown activation"):
        load_builtin(relative)


def test_the_folder_is_found_from_any_working_directory_and_can_be_overridden(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert builtin_dir() == ROOT / "data" / "activations"
    load_builtin("magic-transfer")
    monkeypatch.setenv(ACTIVATIONS_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no shipped activations"):
        builtin_names()


def test_the_installed_package_reaches_data_from_outside_the_repository(tmp_path):
    """`pip install -e .` (the Quick start): a fresh interpreter elsewhere finds data/activations."""
    code = "from srnet.activations import load_builtin; print(load_builtin('magic-sin').formula)"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", ACTIVATIONS_DIR_ENV)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.521*sin(x)"


# ------------------------------------------------------------- provenance

@pytest.fixture
def provenance(experiment_script):
    return experiment_script("_provenance")


def test_results_are_written_with_command_versions_date_and_host(tmp_path, provenance):
    path = provenance.write_results(tmp_path / "sub" / "r.json", {"a": [1, 2]},
                                    argv=["experiments/bench_nguyen.py", "--seeds", "5"])
    data = json.loads(path.read_text())
    assert data["command"] == "python experiments/bench_nguyen.py --seeds 5"
    assert data["results"] == {"a": [1, 2]}
    assert {"python", "srnet", "numpy", "torch", "numba", "sympy", "pyoperon", "gplearn"} <= set(data["versions"])
    assert data["date"].endswith("+00:00") and data["host"]["platform"]
    assert provenance.read_results(path) == {"a": [1, 2]}
    (tmp_path / "bare.json").write_text("{}")
    with pytest.raises(ValueError, match="not an experiment's results file"):
        provenance.read_results(tmp_path / "bare.json")


def test_the_shipped_activations_match_a_fresh_regeneration_and_the_check_sees_a_change(experiment_script, tmp_path):
    make = experiment_script("make_examples")
    make.make_activations(tmp_path)
    shipped = ROOT / "data" / "activations"
    for name in ("index.json", *(f"{e['name']}.json" for e in make.found_activations())):
        fresh = json.loads((tmp_path / name).read_text())
        assert make.same_activation_file(json.loads((shipped / name).read_text()), fresh), name
    changed = json.loads((tmp_path / "magic-sin.json").read_text())
    changed["program"]["weights"] = [[1.522]]
    assert not make.same_activation_file(json.loads((shipped / "magic-sin.json").read_text()), changed)
    index = json.loads((tmp_path / "index.json").read_text())
    index["activations"][0]["values"][-1] += 1e-9
    assert not make.same_activation_file(json.loads((shipped / "index.json").read_text()), index)
