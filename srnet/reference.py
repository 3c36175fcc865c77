"""The SRNet paper's reference networks: their weights, data and published results.

:func:`load_reference` reads one folder of ``shared/srnet_gecco`` (Luo et al.,
GECCO 2022): the trained network, the data it was trained on and explained
with, the recorded layer activations, and the paper's boxes and logged
results, so that srnet's figures can be set beside the paper's on the same
networks.  The true formulas and variable names are those of
:data:`srnet.benchmarks.SRNET_GECCO`.

Note: the recorded activations were computed on a GPU with TF32 matrix
products, so probing in float32 reproduces them to about 1e-3 of each
layer's scale, not to float32 precision.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from srnet.benchmarks import SRNET_GECCO
from srnet.data import UNREADABLE, counted
from srnet.jsonio import parse_json
from srnet.networks import MLPSpec, linear_weights, network_from_state_dict, read_state_dict, widths_from_weights

# Published facts copied from ../shared/srnet_gecco/README.md, keyed by
# network name; the data files hold no such tables.

# Per input, in the network's input order: (low, high).  The paper's fitness
# used training and validation points; its LIME/MAPLE comparison the test box.
PAPER_BOXES = {
    "kkk0": {"training": [(-1, 1)], "validation": [(-2, 2)], "test": [(-5, 5)]},
    "kkk1": {"training": [(-1, 1)] * 2, "validation": [(-2, 2)] * 2, "test": [(-5, 5)] * 2},
    "kkk2": {"training": [(-50, 50)], "validation": [(-100, 100)], "test": [(-250, 250)]},
    "kkk3": {"training": [(-5, 5)] * 2, "validation": [(-10, 10)] * 2, "test": [(-25, 25)] * 2},
    "kkk4": {
        "training": [(-1, 1), (-1, 1), (1, 2)],
        "validation": [(-2, 2), (-2, 2), (0.5, 2.5)],
        "test": [(-5, 5), (-5, 5), (0.5, 5.5)],
    },
    "kkk5": {"training": [(-3, 3)] * 2, "validation": [(-6, 6)] * 2, "test": [(-15, 15)] * 2},
    "feynman0": {
        "training": [(1, 5), (1, 2), (3, 10)],
        "validation": [(0.5, 8.5), (0.5, 2.5), (0.5, 14.5)],
        "test": [(0.5, 20.5), (0.5, 5.5), (0.5, 35.5)],
    },
    "feynman1": {"training": [(1, 5)] * 4, "validation": [(0.5, 8.5)] * 4, "test": [(0.5, 20.5)] * 4},
    "feynman2": {"training": [(1, 5)] * 5, "validation": [(0.5, 8.5)] * 5, "test": [(0.5, 20.5)] * 5},
    "feynman3": {"training": [(1, 5)] * 2, "validation": [(0.5, 8.5)] * 2, "test": [(0.5, 20.5)] * 2},
    "feynman4": {
        "training": [(1, 2), (1, 2), (1, 5), (1, 5), (1, 2)],
        "validation": [(0.5, 2.5), (0.5, 2.5), (0.5, 8.5), (0.5, 8.5), (0.5, 2.5)],
        "test": [(0.5, 5.5), (0.5, 5.5), (0.5, 20.5), (0.5, 20.5), (0.5, 5.5)],
    },
    "feynman5": {
        "training": [(1, 5), (1, 3), (1, 5), (4, 6), (1, 5)],
        "validation": [(0.5, 8.5), (0.5, 4.5), (0.5, 8.5), (2, 8), (0.5, 8.5)],
        "test": [(0.5, 20.5), (0.5, 10.5), (0.5, 20.5), (0.5, 10.5), (0.5, 20.5)],
    },
}


@dataclass(frozen=True)
class PaperFitness:
    """The paper's logged fitness over 30 runs (5000 generations x 200).

    Fitness is the mean of the hidden layers' MSEs plus the output layer's
    MSE, raw (not normalised), on training and validation points.
    """

    mean: float
    best: float
    minutes: float  # mean wall time of one run, pure Python on a Xeon Gold 5218R


PAPER_FITNESS = {
    "kkk0": PaperFitness(9.6e-4, 6.1e-4, 160),
    "kkk1": PaperFitness(0.85, 0.096, 163),
    "kkk2": PaperFitness(0.93, 0.22, 177),
    "kkk3": PaperFitness(0.093, 0.027, 201),
    "kkk4": PaperFitness(0.77, 0.63, 199),
    "kkk5": PaperFitness(6.4, 4.6, 150),
    "feynman0": PaperFitness(0.23, 0.10, 237),
    "feynman1": PaperFitness(0.012, 0.0064, 188),
    "feynman2": PaperFitness(183, 115, 208),
    "feynman3": PaperFitness(43, 5.7, 194),
    "feynman4": PaperFitness(2.35e8, 1.2e8, 257),
    "feynman5": PaperFitness(195, 57, 363),
}

# Agreement with the network's predicted class, percent (train, test).
PAPER_AGREEMENT = {
    "adult": {"lime": (84.5, 71.3), "maple": (98.5, 92.1), "srnet": (100.0, 100.0)},
    "analcatdata_aids": {"lime": (85.2, 90.9), "maple": (93.8, 100.0), "srnet": (91.9, 100.0)},
    "agaricus_lepiota": {"lime": (88.3, 93.8), "maple": (99.2, 98.2), "srnet": (75.8, 75.6)},
    "breast": {"lime": (100.0, 100.0), "maple": (100.0, 100.0), "srnet": (100.0, 100.0)},
    "car": {"lime": (100.0, 100.0), "maple": (100.0, 100.0), "srnet": (100.0, 100.0)},
}


@dataclass
class ReferenceNetwork:
    """One of the SRNet paper's trained networks, its data and published results.

    Attributes
    ----------
    name : str
        The folder name, e.g. ``"kkk0"`` or ``"adult"``.
    task : {"regression", "classification"}
    model : nn.Module
        float32, as trained, in eval mode, in the paper layout.
    widths : tuple of int
        ``(n_inputs, hidden_1, ..., n_outputs)``.
    X : ndarray of shape (n_samples, n_inputs), or None
        Regression: the inputs the activations were recorded on
        (``input.txt.gz``, float32-rounded samples).  Classification: the
        authors' training split; None for ``adult``, which ships no split
        (load its PMLB table instead).
    y : ndarray of shape (n_samples,), or None
        Regression: the true target (``data.txt.gz``).  Classification: the
        training labels.
    X_test, y_test : ndarray, or None
        The authors' test split (classification, when ``test.txt.gz`` exists).
    activations : list of ndarray of shape (n_samples, width), or None
        Regression: the recorded post-sigmoid hidden layers, then the output.
    feature_names : list of str
    boxes : dict of str to ndarray of shape (n_inputs, 2), or None
        The paper's ``"training"``, ``"validation"`` and ``"test"`` boxes.
    paper_fitness : PaperFitness or None
    paper_agreement : dict or None
        Classification: percent agreement (train, test) per explainer.
    settings : dict
        ``settings.json``: the authors' training settings.
    """

    name: str
    task: str
    model: nn.Module
    widths: tuple[int, ...]
    X: np.ndarray | None
    y: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    activations: list[np.ndarray] | None
    feature_names: list[str]
    boxes: dict[str, np.ndarray] | None
    paper_fitness: PaperFitness | None
    paper_agreement: dict[str, tuple[float, float]] | None
    settings: dict


def load_reference(folder) -> ReferenceNetwork:
    """Load a reference network folder of ``shared/srnet_gecco``.

    Parameters
    ----------
    folder : path-like
        ``.../srnet_gecco/regression/<name>`` or
        ``.../srnet_gecco/classification/<name>``.  The task is read from the
        weights: the paper's classifiers end in ``Sequential(Linear, Softmax)``.

    Returns
    -------
    ReferenceNetwork

    Raises
    ------
    FileNotFoundError
        When the folder holds no ``nn_module.pt``.
    """
    folder = Path(folder)
    if not (folder / "nn_module.pt").is_file():
        raise FileNotFoundError(f"'{folder}' is not a reference network folder: it has no nn_module.pt")
    name = folder.name
    state_dict = read_state_dict(folder / "nn_module.pt")
    _, weights = linear_weights(state_dict)
    classification = weights[-1][0].endswith(".0.weight")
    spec = MLPSpec(None, "sigmoid", "softmax" if classification else None)
    model = network_from_state_dict(state_dict, spec)
    widths = widths_from_weights(weights)
    settings_file = folder / "settings.json"
    settings = {}
    if settings_file.is_file():
        try:
            text = settings_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"'{settings_file}' is not UTF-8 text: a damaged file?") from None
        settings = parse_json(text, f"'{settings_file}'")
        if not isinstance(settings, dict):
            raise ValueError(f"'{settings_file}' must hold a JSON object of settings")
    X = y = X_test = y_test = activations = None
    if classification:
        X, y = _read_split(folder / "train.txt.gz")
        X_test, y_test = _read_split(folder / "test.txt.gz")
        for part, (features, labels) in (("train", (X, y)), ("test", (X_test, y_test))):
            _check_split(folder / f"{part}.txt.gz", features, labels, widths)
    else:
        X = _finite(folder / "input.txt.gz", _read_matrix(folder / "input.txt.gz"))
        y = _finite(folder / "data.txt.gz", _read_matrix(folder / "data.txt.gz"))[:, -1]
        if len(y) != len(X):
            raise ValueError(f"'{folder}': data.txt.gz has {len(y)} rows but input.txt.gz has {len(X)}")
        # hidden1 .. hiddenK, one per hidden layer of the network (a backup such as hidden1.old.txt.gz, or a
        # missing hidden2, shifted every layer's recorded activations by one)
        hidden = [folder / f"hidden{k}.txt.gz" for k in range(1, len(widths) - 1)]
        missing = [path.name for path in hidden if not path.is_file()]
        if missing:
            raise ValueError(f"'{folder}' lacks {', '.join(missing)}: the network has {len(widths) - 2} hidden "
                             f"layers, each with its recorded activations")
        activations = [_finite(path, _read_matrix(path)) for path in [*hidden, folder / "output.txt.gz"]]
        # each file as the network says it is (a file cut short, or a layer saved narrower, loaded silently)
        if X.shape[1] != widths[0]:
            raise ValueError(f"'{folder}': input.txt.gz has {counted(X.shape[1], 'column')} but the network "
                             f"{widths[0]} inputs")
        for path, width, recorded in zip([*hidden, folder / "output.txt.gz"], widths[1:], activations):
            if recorded.shape != (len(X), width):
                raise ValueError(f"'{folder}': {path.name} holds {recorded.shape[0]} x {recorded.shape[1]} values; "
                                 f"the network's layer has {width} units over the {len(X)} rows of input.txt.gz")
    boxes = PAPER_BOXES.get(name)
    return ReferenceNetwork(
        name=name,
        task="classification" if classification else "regression",
        model=model,
        widths=widths,
        X=X,
        y=y,
        X_test=X_test,
        y_test=y_test,
        activations=activations,
        feature_names=(list(SRNET_GECCO[name].variables) if name in SRNET_GECCO
                       else [f"x{j}" for j in range(widths[0])]),
        boxes={part: np.array(box, dtype=np.float64) for part, box in boxes.items()} if boxes else None,
        paper_fitness=PAPER_FITNESS.get(name),
        paper_agreement=PAPER_AGREEMENT.get(name),
        settings=settings,
    )


def _read_matrix(path: Path) -> np.ndarray:
    """A whitespace text table as (n_rows, n_columns); one value a line is one column.
    A missing, damaged or non-numeric file is one ValueError line naming it."""
    try:
        with warnings.catch_warnings():  # an empty file: said by its reader, in one line
            warnings.filterwarnings("ignore", message="loadtxt: input contained no data")
            return np.loadtxt(path, ndmin=2)
    except (ValueError, *UNREADABLE) as error:
        raise ValueError(f"cannot read '{path}': {type(error).__name__}: {error}") from None


def _finite(path: Path, values: np.ndarray) -> np.ndarray:
    """``values`` read from ``path``, refused in one line naming the file when any is NaN or inf (a NaN in
    data.txt.gz was explained as a network of R2 -inf, with advice about --arch and class labels)."""
    if not np.isfinite(values).all():
        raise ValueError(f"'{path}' holds NaN/inf values")
    return values


def _check_split(path: Path, X, y, widths) -> None:
    """A split as the network says it is: its inputs wide, finite, and labels among its classes (a split of
    another dataset, cut short, or of labels 7.5 and -1 loaded silently)."""
    if X is None:
        return
    if X.shape[0] == 0:  # (an empty file read as "0 input columns")
        raise ValueError(f"'{path}' is empty")
    if X.shape[1] != widths[0]:
        raise ValueError(f"'{path}' has {counted(X.shape[1], 'input column')} but the network {widths[0]} inputs")
    if not np.isfinite(X).all():
        raise ValueError(f"'{path}' holds NaN/inf inputs")
    if not (np.all(y == np.round(y)) and y.min() >= 0 and y.max() < widths[-1]):
        raise ValueError(f"'{path}': its labels (last column) must be whole numbers in 0..{widths[-1] - 1}, the "
                         f"network's classes")


def _read_split(path: Path) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Features and labels (last column) of a split file, or (None, None) without one."""
    if not path.is_file():
        return None, None
    table = _read_matrix(path)
    return table[:, :-1], table[:, -1]
