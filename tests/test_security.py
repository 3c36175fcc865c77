"""What srnet loads without trusting it: no pickle runs code (issue 11, 8)."""

import ast
import pickle
import re
import tomllib
from pathlib import Path

import pytest
import torch

from srnet.networks import load_network, read_state_dict

ROOT = Path(__file__).resolve().parents[1]


class _Payload:
    """Unpickling this runs code: it creates the file named ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_a_pickled_object_that_runs_code_is_refused_and_never_run(tmp_path, protocol):
    marker = tmp_path / "ran"
    for name, save in (("zip.pt", lambda obj, path: torch.save(obj, path, pickle_protocol=protocol)),
                       ("plain.pkl", lambda obj, path: path.write_bytes(pickle.dumps(obj, protocol=protocol)))):
        path = tmp_path / name
        save({"weight": _Payload(marker)}, path)
        with pytest.raises(ValueError) as error:
            read_state_dict(path)
        assert "\n" not in str(error.value) and str(path) in str(error.value)
        with pytest.raises(ValueError):
            load_network(path, "mlp:sigmoid")
        assert not marker.exists(), f"loading {name} ran the pickled code"
    # the same object unpickled the unsafe way does run (the test's payload works)
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


def _torch_load_calls():
    for path in sorted((ROOT / "srnet").rglob("*.py")) + sorted((ROOT / "experiments").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
                yield path.relative_to(ROOT), node


def test_every_torch_load_uses_weights_only():
    calls = list(_torch_load_calls())
    assert calls, "no torch.load found: the scan is broken"
    for path, node in calls:
        keywords = {k.arg: k.value for k in node.keywords}
        value = keywords.get("weights_only")
        assert isinstance(value, ast.Constant) and value.value is True, f"{path}:{node.lineno} torch.load without weights_only=True"


def test_torch_floor_excludes_releases_with_weights_only_bypasses():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (torch_requirement,) = [d for d in dependencies if re.match(r"torch\b", d)]
    floor = re.search(r">=\s*(\d+)\.(\d+)", torch_requirement)
    assert floor and (int(floor[1]), int(floor[2])) >= (2, 10), torch_requirement
