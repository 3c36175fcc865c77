"""Regenerate what srnet ships under data/: example networks and found activations.

``data/examples/<name>/``: a small network trained here from a fixed seed with
:func:`srnet.train.train_mlp` (``network.pt``: a state_dict of tensors only,
loadable with ``torch.load(..., weights_only=True)``), its data
(``data.csv``: the inputs, then the target column) and the network's outputs
on those rows (``expected_outputs.csv``, read back through
:func:`srnet.networks.load_network` with the example's ``--arch``);
``data/examples/examples.json`` lists each with its architecture, command,
training figures and SHA-256 digests.

``data/activations/<name>.json``: the activation study's found formulas, built
from sympy expressions written out below (no text is parsed) and saved with
:meth:`ExpressionActivation.save`; ``data/activations/index.json`` gives each
one's provenance and its values on a few points.

Everything is seeded, trained on one thread with deterministic algorithms,
and written with fixed formatting, so a rerun on the same torch build writes
the same bytes.  ``--check`` regenerates into a temporary folder and compares
with the shipped files instead of writing (weights to the last bit, outputs to
1e-6 across builds).

Run ``python experiments/make_examples.py [--check] [--out data]`` (about 30 s).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import sympy
import torch

from srnet.activations import VARIABLE, ExpressionActivation
from srnet.benchmarks import get_benchmark
from srnet.networks import load_network
from srnet.train import train_mlp

REPO = Path(__file__).resolve().parents[1]
SEED = 0
COMMAND = "python experiments/make_examples.py"


# ---------------------------------------------------------------- examples

def sine_data():
    """The demo's function, sin x + sin(x + x^2) on [-1, 1] (srnet.benchmarks' kkk0), 200 rows."""
    bench = get_benchmark("kkk0")
    x = np.round(np.random.default_rng(SEED).uniform(-1.0, 1.0, 200), 6)
    X = x[:, None]
    return X, bench.truth(X), ["x"], "y"


def coulomb_data():
    """Coulomb's law without its constant, F = q1 q2 / r^2, on q1, q2 in [0.5, 2], r in [1, 2], 500 rows."""
    rng = np.random.default_rng(SEED)
    X = np.round(np.column_stack([rng.uniform(0.5, 2.0, 500), rng.uniform(0.5, 2.0, 500),
                                  rng.uniform(1.0, 2.0, 500)]), 6)
    return X, X[:, 0] * X[:, 1] / X[:, 2] ** 2, ["q1", "q2", "r"], "F"


def iris_data():
    """scikit-learn's copy of Fisher's iris (150 rows, 4 measurements in cm, classes 0, 1, 2)."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    return (iris.data.astype(np.float64), iris.target.astype(np.int64),
            ["sepal_length", "sepal_width", "petal_length", "petal_width"], "species")


EXAMPLES = [
    dict(name="sine", data=sine_data, hidden=(8, 8), activation="sigmoid", task="regression", epochs=1500,
         arch="mlp:1-8-8-1:sigmoid", options="",
         learned="y = sin(x) + sin(x + x^2) on x in [-1, 1] (the demo's function; srnet.benchmarks 'kkk0')"),
    dict(name="coulomb", data=coulomb_data, hidden=(16, 16), activation="sigmoid", task="regression", epochs=3000,
         arch="mlp:3-16-16-1:sigmoid", options="",
         learned="Coulomb's law without its constant, F = q1*q2/r^2, on q1, q2 in [0.5, 2] and r in [1, 2]"),
    dict(name="iris", data=iris_data, hidden=(16,), activation="tanh", task="classification", epochs=1000,
         arch="mlp:4-16-3:tanh:softmax", options=" --test-size 0.25",
         learned="the species of an iris (0 setosa, 1 versicolor, 2 virginica) from its four measurements in cm "
                 "(scikit-learn's copy of Fisher's data)"),
]


def _number(value) -> str:
    """Shortest text that reads back as the same float64 (integers as integers)."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))


def _write_csv(path: Path, header, rows) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([_number(v) for v in row] for row in rows)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def weights_sha256(state_dict) -> str:
    """SHA-256 over the tensors (names, dtypes, shapes and bytes, in order): independent of torch.save's container."""
    digest = hashlib.sha256()
    for key, tensor in state_dict.items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)}\n".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def make_example(spec: dict, folder: Path) -> dict:
    """Train one example, write its files in folder/<name>/, return its entry of examples.json."""
    X, y, names, target = spec["data"]()
    network, record = train_mlp(X, y, hidden=spec["hidden"], activation=spec["activation"], task=spec["task"],
                                epochs=spec["epochs"], random_state=SEED)
    where = folder / spec["name"]
    where.mkdir(parents=True, exist_ok=True)
    state_dict = {k: v.detach().clone().contiguous() for k, v in network.state_dict().items()}
    torch.save(state_dict, where / "network.pt")
    _write_csv(where / "data.csv", [*names, target], [[*row, label] for row, label in zip(X, y)])
    loaded = load_network(where / "network.pt", spec["arch"])  # exactly what srnet explain will run
    with torch.no_grad():
        outputs = loaded(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    columns = ["output"] if outputs.shape[1] == 1 else [f"output_{j}" for j in range(outputs.shape[1])]
    _write_csv(where / "expected_outputs.csv", columns, outputs)
    if spec["task"] == "regression":
        residual = outputs[:, 0] - y
        fit = {"r2": round(1.0 - float(residual @ residual) / float(((y - y.mean()) ** 2).sum()), 6)}
    else:
        fit = {"accuracy": round(float(np.mean(outputs.argmax(axis=1) == y)), 6)}
    base = f"data/examples/{spec['name']}"
    return {
        "name": spec["name"],
        "learned": spec["learned"],
        "task": spec["task"],
        "architecture": spec["arch"],
        "network": f"{spec['name']}/network.pt",
        "data": f"{spec['name']}/data.csv",
        "columns": [*names, target],
        "target": target,
        "rows": len(X),
        "expected_outputs": f"{spec['name']}/expected_outputs.csv",
        "command": (f"srnet explain {base}/network.pt --arch {spec['arch']} --data {base}/data.csv "
                    f"--target last{spec['options']} --out out/{spec['name']}"),
        "training": {"function": "srnet.train.train_mlp", "hidden": list(spec["hidden"]),
                     "activation": spec["activation"], "task": spec["task"], "epochs": spec["epochs"],
                     "random_state": SEED, "final_loss": float(f"{record.final_loss:.6g}"), **fit},
        "sha256": {"weights": weights_sha256(state_dict), "data": _sha256(where / "data.csv")},
    }


def make_examples(folder: Path) -> dict:
    entries = []
    for spec in EXAMPLES:
        entry = make_example(spec, folder)
        print(f"  {entry['name']:<8} {entry['architecture']:<24} {entry['training']}", flush=True)
        entries.append(entry)
    manifest = {"format": "srnet.examples", "version": 1, "generated_by": COMMAND, "examples": entries}
    (folder / "examples.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# ------------------------------------------------------------- activations

STUDY = "python experiments/activation_study.py --datasets magic,satimage,spambase --seeds 42,43,44 --route data"


def found_activations():
    """The study's found formulas, written out as sympy expressions (constants as the report printed them)."""
    x = VARIABLE
    c = sympy.Float
    return [
        dict(name="magic-sin", expr=c("1.521") * sympy.sin(x),
             provenance="found on magic (MAGIC gamma telescope, PMLB) by the data route: CGP symbolic regression "
                        "of the training labels on a subsample, every input then replaced by x"),
        dict(name="magic-transfer", expr=c("1.641") * sympy.sin(2 * x + sympy.sin(2 * x)),
             provenance="found on magic by the data route and transferred (Hybrid-Transfer) to satimage and "
                        "spambase, where it made the best Light model"),
        dict(name="cos-cos-sin", expr=c("8.955") * sympy.cos(sympy.cos(sympy.sin(x))) - c("6.181"),
             provenance="found by the same study's data route; the study's report printed the formula without "
                        "recording which of its datasets and seeds it came from"),
    ]


PROBE_X = [-3.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0]


def make_activations(folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for spec in found_activations():
        act = ExpressionActivation.from_sympy(spec["expr"], VARIABLE, label=f"srnet activation study: {spec['name']}")
        act.save(folder / f"{spec['name']}.json")
        with torch.no_grad():
            values = act(torch.tensor(PROBE_X, dtype=torch.float64)).tolist()
        entries.append({"name": spec["name"], "file": f"{spec['name']}.json", "formula": act.formula,
                        "provenance": spec["provenance"], "study_command": STUDY,
                        "x": PROBE_X, "values": values})
        print(f"  {spec['name']:<15} g(x) = {act.formula}", flush=True)
    index = {"format": "srnet.activation-index", "version": 1, "generated_by": COMMAND, "activations": entries}
    (folder / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    return index


# -------------------------------------------------------------------- main

def check(shipped: Path, fresh: Path) -> list[str]:
    """Differences between the shipped data/ and a fresh regeneration."""
    problems = []
    old = json.loads((shipped / "examples" / "examples.json").read_text())["examples"]
    new = json.loads((fresh / "examples" / "examples.json").read_text())["examples"]
    # an example added, removed or renamed since the shipped files were made: a difference to report
    # (zip(strict=True) raised ValueError after the regeneration)
    if [a["name"] for a in old] != [b["name"] for b in new]:
        problems.append(f"examples: shipped {[a['name'] for a in old]}, regenerated {[b['name'] for b in new]}")
        old = new = []
    for a, b in zip(old, new):
        if a["sha256"] != b["sha256"]:
            problems.append(f"{a['name']}: weights or data differ from the shipped ones")
        previous = np.loadtxt(shipped / "examples" / a["expected_outputs"], delimiter=",", skiprows=1, ndmin=2)
        current = np.loadtxt(fresh / "examples" / b["expected_outputs"], delimiter=",", skiprows=1, ndmin=2)
        if previous.shape != current.shape:  # (they did not broadcast: a ValueError)
            problems.append(f"{a['name']}: outputs of shape {previous.shape} shipped, {current.shape} regenerated")
            continue
        gap = float(np.max(np.abs(previous - current)))
        if not gap <= 1e-6:  # (a NaN gap passed as 'not > 1e-6')
            problems.append(f"{a['name']}: outputs differ by up to {gap:.3g}")
    for name in ("index.json", *(f"{e['name']}.json" for e in found_activations())):
        if not (shipped / "activations" / name).is_file():  # an activation added since: FileNotFoundError
            problems.append(f"activations/{name} is not shipped")
            continue
        before = json.loads((shipped / "activations" / name).read_text())
        after = json.loads((fresh / "activations" / name).read_text())
        if not same_activation_file(before, after):
            problems.append(f"activations/{name} differs")
    return problems


def same_activation_file(before, after) -> bool:
    """Equal, but for the index's probe values, which agree to 1e-12 (the last bit of a float64 sin
    differs between torch builds)."""
    if isinstance(before, dict) and isinstance(after, dict):
        if before.keys() != after.keys():
            return False
        return all(np.allclose(before[k], after[k], rtol=1e-12, atol=0.0) if k == "values"
                   else same_activation_file(before[k], after[k]) for k in before)
    if isinstance(before, list) and isinstance(after, list):
        return len(before) == len(after) and all(same_activation_file(a, b) for a, b in zip(before, after))
    return before == after


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "data"), help="the data folder to write (default: data/)")
    parser.add_argument("--check", action="store_true", help="regenerate into a temporary folder and compare")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if args.check:
        index = Path(args.out) / "examples" / "examples.json"
        if not index.is_file():  # checked before the minutes of regeneration
            parser.error(f"--check compares with the shipped files, and '{index}' is missing: is --out the data "
                         f"folder?")
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp)
            make_examples(fresh / "examples")
            make_activations(fresh / "activations")
            problems = check(Path(args.out), fresh)
        print("\n".join(problems) or "the shipped files match a fresh regeneration")
        return 1 if problems else 0
    out = Path(args.out)
    make_examples(out / "examples")
    make_activations(out / "activations")
    print(f"wrote {out / 'examples'} and {out / 'activations'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
