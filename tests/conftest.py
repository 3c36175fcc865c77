"""Shared fixtures: where the optional shared data lives, and seeding."""

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parents[1]

# Property tests explore new examples on every local run (that is how they find
# bugs); in CI they replay a fixed set, so a rare example cannot turn main red
# at random.  A failure found locally is kept in .hypothesis/ and replayed.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Tests train tiny networks: one thread each is fastest, and xdist already
# runs one test process per core.
torch.set_num_threads(1)


def _shared_path(env_var: str, default: Path) -> Path | None:
    path = Path(os.environ.get(env_var, default))
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def gecco_dir() -> Path:
    """The SRNet paper's reference networks (``../shared/srnet_gecco``), or skip."""
    path = _shared_path("SRNET_GECCO_DIR", REPO_ROOT.parent / "shared" / "srnet_gecco")
    if path is None:
        pytest.skip("SRNet reference networks not found (set SRNET_GECCO_DIR)")
    return path


@pytest.fixture(scope="session")
def pmlb_cache() -> Path:
    """A local PMLB cache (``../shared/pmlb``), or skip."""
    path = _shared_path("SRNET_PMLB_CACHE", REPO_ROOT.parent / "shared" / "pmlb")
    if path is None:
        pytest.skip("PMLB cache not found (set SRNET_PMLB_CACHE)")
    return path


@pytest.fixture
def experiment_script(monkeypatch):
    """``load(name)``: a script of ``experiments/`` imported as a module (the
    scripts import each other by bare name), forgotten again after the test."""
    loaded = []

    def load(name: str):
        monkeypatch.syspath_prepend(str(REPO_ROOT / "experiments"))
        loaded.append(name)
        return importlib.import_module(name)

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


@pytest.fixture(autouse=True)
def _deterministic_torch():
    torch.manual_seed(0)
    np.random.seed(0)
    yield
    # a test that leaves a torch function mode on (torch.set_default_device("cpu") pushes one) makes every later
    # tensor "have a torch function": activations then took their unfused path in every test after it
    assert not torch.overrides.has_torch_function((torch.empty(0),)), \
        "this test left a torch function mode on (torch.set_default_device(None) turns the default device's off)"


@pytest.fixture
def drawn(monkeypatch):
    """The figures srnet.plots would save, by file name (the last saved under each), kept open for the test
    and closed after it: what a plot draws is read from its matplotlib Figure, no PNG written."""
    import matplotlib.pyplot as plt

    import srnet.plots as plots

    figures, every = {}, []

    def keep(fig, path):  # returns a Path, as save_figure does
        path = Path(path)
        figures[path.name] = fig
        every.append(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    yield figures
    for fig in every:
        plt.close(fig)
