"""numba's target for srnet's kernels: full-width vectors on AVX-512 CPUs (srnet.cgp._target)."""

import json
import os
import subprocess
import sys

import pytest
from numba import config

from srnet.cgp import _target


@pytest.fixture
def numba_target(monkeypatch):
    """numba's target settings as a user left them (none chosen, nothing compiled yet), restored afterwards."""
    monkeypatch.setattr(config, "CPU_NAME", None)
    monkeypatch.setattr(config, "CPU_FEATURES", None)
    monkeypatch.setattr(_target, "_compiled_already", lambda: False)


def _host(monkeypatch, features: str):
    monkeypatch.setattr(_target, "get_host_cpu_features", lambda: features)


def test_avx512_host_prefers_full_width_vectors(numba_target, monkeypatch):
    _host(monkeypatch, "+64bit,+avx2,+avx512f,+fma")
    assert _target.prefer_wide_vectors({}) == "+64bit,+avx2,+avx512f,+fma,-prefer-256-bit"
    assert config.CPU_FEATURES == "+64bit,+avx2,+avx512f,+fma,-prefer-256-bit"


@pytest.mark.parametrize("features", ["+64bit,+avx2,+fma", "+64bit,+avx2,-avx512f", ""])
def test_without_avx512_numba_keeps_its_choice(numba_target, monkeypatch, features):
    _host(monkeypatch, features)
    assert _target.prefer_wide_vectors({}) is None
    assert config.CPU_FEATURES is None


@pytest.mark.parametrize("value", ["0", "false", "Off", " no "])
def test_opt_out(numba_target, monkeypatch, value):
    _host(monkeypatch, "+avx512f")
    assert _target.prefer_wide_vectors({_target.ENV: value}) is None
    assert config.CPU_FEATURES is None


def test_after_numba_compiled_nothing_changes(numba_target, monkeypatch):
    """numba made its code generator at its first @njit: a later setting would be ignored, and claimed."""
    _host(monkeypatch, "+avx512f")
    monkeypatch.setattr(_target, "_compiled_already", lambda: True)
    assert _target.prefer_wide_vectors({}) is None and config.CPU_FEATURES is None


@pytest.mark.parametrize("setting", ["CPU_NAME", "CPU_FEATURES"])
def test_a_target_the_user_chose_is_kept(numba_target, monkeypatch, setting):
    _host(monkeypatch, "+avx512f")
    monkeypatch.setattr(config, setting, "user's choice")
    assert _target.prefer_wide_vectors({}) is None
    assert getattr(config, setting) == "user's choice"


_PROBE = """
import json
import srnet, srnet.cgp._kernels
from numba import njit
from numba.core.registry import cpu_target
from srnet.cgp import _target
@njit
def one(x):
    return x + 1
one(1)
print(json.dumps([_target.WIDE_FEATURES, cpu_target.target_context.codegen()._tm_features]))
"""


def _probe(**env):
    environ = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_FEATURES", "NUMBA_CPU_NAME", _target.ENV)}
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=300,
                            env={**environ, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_srnet_sets_the_target_before_numba_compiles():
    """The features srnet chose are those numba compiles with (set too late, they would be ignored)."""
    wide, compiled_with = _probe()
    if wide is None:
        pytest.skip("this CPU has no AVX-512: numba's own target")
    assert wide.endswith(",-prefer-256-bit")
    assert compiled_with == wide


def test_numba_environment_variables_win():
    features = _probe(NUMBA_CPU_FEATURES="+64bit,+sse2")
    assert features == [None, "+64bit,+sse2"]
    assert _probe(**{_target.ENV: "0"})[0] is None


def test_numba_code_compiled_before_srnet_keeps_its_target():
    script = "from numba import njit\n@njit\ndef first(x):\n    return x\n" + _PROBE
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    wide, compiled_with = json.loads(result.stdout.strip().splitlines()[-1])
    assert wide is None and not compiled_with.endswith("-prefer-256-bit")
