"""Turn command-line arguments into a network and the data to explain it on.

A MODEL argument is a TorchScript file, a state_dict file (with an
architecture spec), or a reference folder of ``shared/srnet_gecco``; a DATA
argument is a file or a PMLB name (see :func:`srnet.data.load_table`).  A
reference folder brings its own data and the paper's boxes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from srnet.data import class_indices, counted, load_table
from srnet.metrics import rmse_r2
from srnet.names import label_text
from srnet.networks import BINARY_LOGIT, load_network, parse_architecture
from srnet.probe import accepts_width, plan_layers
from srnet.reference import load_reference


@dataclass
class Workload:
    """A network with the data to explain it on.

    ``X_test`` are extra points (a classifier's test split); ``boxes`` the
    paper's training/validation/test boxes for reference networks; ``y`` the
    data's target column, when there is one; ``architecture`` the ``--arch``
    a state_dict was built with; ``classes`` the label of each output (see
    :func:`with_classes`).
    """

    name: str
    model: nn.Module
    X: np.ndarray
    feature_names: list[str]
    X_test: np.ndarray | None = None
    boxes: dict | None = None
    is_classifier: bool = False
    y: np.ndarray | None = None
    architecture: str | None = None
    #: the class label of each network output, in order (``--classes``); None: the target's labels sorted
    classes: tuple[str, ...] | None = None


def load_workload(model_arg, data_arg=None, *, architecture=None, target=None, pmlb_cache=None,
                  download: bool = False) -> Workload:
    """Resolve MODEL and DATA arguments (see the module docstring).

    Data files keep only the network's input columns: with ``target`` set
    (e.g. ``"last"``) that column is dropped, and a PMLB table's target
    column always is.
    """
    path = Path(model_arg)
    if path.is_dir():
        if not (path / "nn_module.pt").is_file():
            raise ValueError(f"'{path}' is a folder without nn_module.pt: not a reference network")
        if architecture is not None:  # it would be ignored without a word
            raise ValueError(f"--arch describes a state_dict's network; the reference network '{path.name}' carries "
                             f"its own (nn_module.pt): drop --arch")
        if target is not None and data_arg is None:
            raise ValueError(f"--target names a column of --data; the reference network '{path.name}' ships its "
                             f"inputs without one: drop --target, or pass --data")
        reference = load_reference(path)
        X, y, names = reference.X, reference.y, reference.feature_names
        if data_arg is not None:
            X, y, names = load_table(data_arg, target=target, pmlb_cache=pmlb_cache, download=download)
        elif X is None:
            raise ValueError(f"reference network '{reference.name}' ships no data: pass --data "
                             f"(e.g. the PMLB name '{reference.name}')")
        workload = Workload(reference.name, reference.model, X, list(names), reference.X_test,
                            reference.boxes, reference.task == "classification", y)
    else:
        if data_arg is None:
            raise ValueError("--data is required unless MODEL is a reference network folder")
        model = load_network(path, architecture)
        X, y, names = load_table(data_arg, target=target, pmlb_cache=pmlb_cache, download=download)
        workload = Workload(path.stem, model, X, list(names), is_classifier=plan_layers(model).is_classifier, y=y,
                            architecture=None if architecture is None else _resolved(architecture, model))
    expected = plan_layers(workload.model).n_features
    # a network that runs on the data's width but declares its layers out of order: the probe says so
    if workload.X.shape[1] != expected and not accepts_width(workload.model, workload.X.shape[1]):
        hint = "" if target is not None else " (if the data include a target column, pass --target last)"
        raise ValueError(f"the data have {counted(workload.X.shape[1], 'column')} but the network expects "
                         f"{expected}{hint}")
    if workload.y is not None and not workload.is_classifier and np.asarray(workload.y).dtype.kind in "USO":
        raise ValueError("the target column holds text labels, but the network is a regressor (it does not end in "
                         "Softmax or LogSoftmax): pass a numeric target, or for a classifier, "
                         f"{_softmax_way(workload)}")
    return workload


def _softmax_way(workload: Workload) -> str:
    """How to give a logits-only classifier its softmax head: in --arch, or, for a TorchScript archive (which
    refuses --arch), saved again with one (the advice to add ':softmax' to --arch was a dead end there)."""
    if workload.architecture is not None:
        return "add ':softmax' to --arch"
    return ("save it with nn.Softmax(dim=1) after its last layer (torch.jit.script(nn.Sequential(model, "
            "nn.Softmax(dim=1))))")


#: Class labels a note lists before "...".
MAX_LABELS_SHOWN = 5


def network_fit(workload: Workload) -> dict:
    """How well the network itself fits the data's target, when there is one.

    Regression: ``network_r2`` (R^2 of the network's output against the
    target); classifiers: ``network_accuracy`` (the arg-max logit against
    the target's classes, sorted, as :func:`srnet.train.train_mlp` numbers
    them; whole-number labels that are output indices, 0 and 2 of three
    outputs, are read as those outputs).  A wrong architecture guess for a
    state_dict shows here as a poor value.  A figure that cannot be had is
    None, and ``network_fit_note`` says why (``n/a`` alone said nothing);
    beside an accuracy, it says how labels other than 0..K-1 were read.
    Empty without a target.
    """
    from srnet.probe import probe

    if workload.y is None:
        return {}
    y = np.asarray(workload.y)
    output = probe(workload.model, workload.X, [plan_layers(workload.model).output])[0]
    outputs = output.shape[1]
    if workload.is_classifier and workload.classes is not None:  # the outputs' labels as given (with_classes)
        given = list(workload.classes)
        indices = np.array([given.index(label_text(label)) for label in y.reshape(-1).tolist()])
        return {"network_accuracy": float(np.mean(output.argmax(axis=1) == indices)),
                "network_fit_note": f"labels read as outputs 0..{outputs - 1} in the order given: "
                                    f"{_labels_text(np.array(given))}"}
    if workload.is_classifier:
        classes, indices = class_indices(y.reshape(-1))  # as train_mlp numbers them, and explain names them
        if len(classes) != outputs:
            if _continuous(y):  # (a regression network given ':logit' read "the target holds 214 classes")
                return {"network_accuracy": None, "network_fit_note": f"the target holds {len(classes)} values, "
                        f"not whole numbers: no classes to score"}
            if classes.dtype.kind not in "iuf" or not all(value == int(value) and 0 <= value < outputs
                                                         for value in classes.tolist()):
                return {"network_accuracy": None, "network_fit_note": f"the target holds {len(classes)} classes, "
                        f"the network {outputs} outputs, and its labels are not output indices 0..{outputs - 1}"}
            indices = y.reshape(-1).astype(np.int64)  # labels that are output indices: those outputs
        fit = {"network_accuracy": float(np.mean(output.argmax(axis=1) == indices.reshape(-1)))}
        if len(classes) == outputs and (classes.dtype.kind not in "iuf" or classes.tolist() != list(range(outputs))):
            fit["network_fit_note"] = f"labels {_labels_text(classes)} read as outputs 0..{outputs - 1} in that order"
        return fit
    target = y.reshape(len(y), -1).astype(np.float64)
    if target.shape[1] != outputs:
        return {"network_r2": None, "network_fit_note": f"the target has {counted(target.shape[1], 'column')}, "
                                                        f"the network {outputs} outputs"}
    if not np.any(target != target[0]):
        return {"network_r2": None, "network_fit_note": "the target is constant: it has no R2"}
    return {"network_r2": rmse_r2(target, output)[1]}


def _labels_text(labels: np.ndarray) -> str:
    """Class labels as a line names them: "benign, malignant"; the first MAX_LABELS_SHOWN, then "..."."""
    return ", ".join(label_text(label) for label in labels.tolist()[:MAX_LABELS_SHOWN]) + (
        ", ..." if len(labels) > MAX_LABELS_SHOWN else "")


def with_classes(workload: Workload, text: str) -> Workload:
    """The workload with ``classes``, the label of each network output in order, read from ``--classes``
    ("malignant,benign"): a network whose outputs follow its labels in another order than sorted (trained with 1
    = benign) read accuracy 0.007 and named each class by the other's label.  One clear ValueError where the
    network is no classifier, the count is not its outputs', a label repeats, or a label of the target is not
    among them."""
    classes = tuple(label.strip() for label in text.split(","))
    if not workload.is_classifier:
        raise ValueError("--classes names a classifier's outputs, and this network is none (no softmax or logit "
                         "head in --arch)")
    outputs = plan_layers(workload.model).widths[-1]
    if len(classes) != outputs or not all(classes):
        raise ValueError(f"--classes names {counted(len([c for c in classes if c]), 'label')}, and the network has "
                         f"{counted(outputs, 'output')}: give one label per output, in order, joined by ','")
    repeated = next((label for j, label in enumerate(classes) if label in classes[:j]), None)
    if repeated is not None:
        raise ValueError(f"--classes names '{repeated}' twice: each output is one class")
    if workload.y is not None:
        missing = sorted({label_text(label) for label in np.asarray(workload.y).reshape(-1).tolist()} - set(classes))
        if missing:
            raise ValueError(f"--classes has no output for the target's label{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(missing[:MAX_LABELS_SHOWN])}; its labels: {', '.join(classes)}")
    return dataclasses.replace(workload, classes=classes)


def _continuous(y: np.ndarray) -> bool:
    """Whether a target holds numbers that are not all whole: a regression's, not class labels."""
    return y.dtype.kind == "f" and not np.all(y == np.round(y))


def _rescaled_r2(workload: Workload) -> float:
    """R^2 of the network's output against the target after the best affine map of each output column: how a
    network trained on a standardised (or scaled) target fits the target as given (R2 -3.7 as given, 0.88
    rescaled: the data's units, not the network, were wrong)."""
    from srnet.probe import probe

    output = probe(workload.model, workload.X, [plan_layers(workload.model).output])[0]
    target = np.asarray(workload.y).reshape(len(output), -1).astype(np.float64)
    rescaled = np.empty_like(target)
    for j in range(target.shape[1]):
        design = np.column_stack([output[:, j], np.ones(len(output))])
        rescaled[:, j] = design @ np.linalg.lstsq(design, target[:, j], rcond=None)[0]
    return rmse_r2(target, rescaled)[1]


#: Below this R^2 against the data's target, a network is likely loaded wrong (or is a poor network).
POOR_FIT_R2 = 0.5
#: A poor fit that rescaling the output lifts to this R^2 or more is a scaled target; below it, a scale alone
#: does not explain it, and the architecture is asked about too.
RESCALED_GOOD_R2 = 0.9


def fit_warning(workload: Workload, own: dict) -> str | None:
    """A line for a network that looks loaded wrong, from :func:`network_fit`'s figures: a regression
    network of k outputs whose target holds k whole-number classes (a classifier without ':softmax' in
    --arch: its logits were explained as a regression, R2 n/a, without a word), or a poor fit to the
    target (R2 -227 for a sigmoid network loaded as tanh), or a classifier less accurate than always answering
    the commonest label (labels read in another order than its outputs': accuracy 0, without a word)."""
    if workload.y is None:
        return None
    if workload.is_classifier:
        if _continuous(np.asarray(workload.y).reshape(-1)):
            head = ("drop ':softmax' or ':logit' from --arch" if workload.architecture is not None else
                    "explain it without its softmax")
            return (f"the target holds {len(np.unique(workload.y))} values, not whole numbers, and the network "
                    f"is read as a classifier: a regression network? then {head}")
        accuracy = own.get("network_accuracy")
        labels, counts = np.unique(np.asarray(workload.y).reshape(-1), return_counts=True)
        commonest = counts.max() / counts.sum()
        if accuracy is not None and accuracy < commonest:
            # two classes the other way round score 1 - accuracy: a network trained with 1 = benign, its labels
            # benign and malignant sorted, read 0.007 and printed each class under the other's name
            other_way = ",".join(label_text(label) for label in labels[::-1].tolist())
            swapped = (f"; read the other way round it scores {1 - accuracy:.4g}: is output 0 "
                       f"{_labels_text(labels[1:])}? then give --classes {other_way}"
                       if len(labels) == 2 and plan_layers(workload.model).widths[-1] == 2  # (two outputs: 1 - acc)
                       and 1 - accuracy > commonest and workload.classes is None else "")
            return (f"the network's accuracy against the labels is {accuracy:.4g}, below the {commonest:.4g} of "
                    f"always answering the commonest label: "
                    + ("are its outputs in the order --classes gives" if workload.classes is not None else
                       f"are its outputs in the labels' sorted order ({_labels_text(labels)}"
                       f"{')' if swapped else '; else give --classes)'}")
                    + f", is --target the label column{', is --arch right' * (workload.architecture is not None)}?"
                    + swapped)  # (no --arch for a TorchScript file: a question it cannot answer)
        return None
    r2 = own.get("network_r2")
    y = np.asarray(workload.y).reshape(-1)
    outputs = plan_layers(workload.model).widths[-1]
    if r2 is None and outputs > 1 and y.dtype.kind in "iuf" and np.all(y == np.round(y)) \
            and len(np.unique(y)) == outputs:
        return (f"the network has {outputs} outputs and no softmax head, and the target {outputs} classes: "
                f"a classifier? then {_softmax_way(workload)}")
    poor = r2 is not None and r2 < POOR_FIT_R2
    two_classes = outputs == 1 and y.dtype.kind in "iuf" and set(np.unique(y).tolist()) == {0, 1}
    sigmoid_head = two_classes and workload.architecture is not None and \
        parse_architecture(workload.architecture).output_activation == "sigmoid"
    if two_classes and (poor or sigmoid_head):
        # a BCEWithLogitsLoss network: its logit against 0/1 labels read as a wrong --arch (R2 -312); a BCELoss one
        # (a sigmoid head): its probability explained as a regression, no class agreement
        if workload.architecture is not None:
            way = (f"end --arch with ':{BINARY_LOGIT}' ({_with_logit_head(workload.architecture)}): srnet then "
                   f"explains its logit and its classes")
        else:
            way = ("to explain its classes, save it with the two logits (0, z) and a Softmax after them: "
                   "torch.jit.save(torch.jit.script(srnet.networks.binary_classifier(model)), 'net.pt')")
        what = (f"the network's R2 against the target is {r2:.4g}, with one output" if poor else
                "the network has one output, after a sigmoid,")
        return (f"{what} and the classes 0 and 1: a binary classifier (BCEWithLogitsLoss, or BCELoss after a "
                f"sigmoid)? srnet explains its output as a regression; {way}")
    if poor:
        rescaled = _rescaled_r2(workload)
        if rescaled >= POOR_FIT_R2 and rescaled - r2 > 0.1:  # (a poor network is about as poor rescaled)
            # a tanh network loaded as sigmoid read 0.08, and 0.64 rescaled: a scale alone would not leave it poor
            arch = ("" if rescaled >= RESCALED_GOOD_R2 else
                    f"; if not, {_arch_question(workload)}are the columns in the order it was trained on?")
            return (f"the network's R2 against the target is {r2:.4g}, and {rescaled:.4g} once its output is "
                    f"rescaled (a * output + b): was the target standardised or scaled to train it? then give "
                    f"the target in the network's units (the formula explains the network's output, in its "
                    f"units){arch}")
        return (f"the network's R2 against the target is {r2:.4g}: {_arch_question(workload)}are the columns in "
                f"the order it was trained on, is --target the network's target? (or is the target that noisy: "
                f"then nothing is wrong)")
    return None


def _arch_question(workload) -> str:
    """Asked only of a network loaded with --arch: a TorchScript file (no --arch) was asked whether its --arch
    was right."""
    return "is --arch right (its activation, its widths), " if workload.architecture is not None else ""


def _with_logit_head(architecture: str) -> str:
    """``architecture`` with the head ':logit' in place of its own (a sigmoid's, or none)."""
    spec = parse_architecture(architecture)
    return str(dataclasses.replace(spec, output_activation=BINARY_LOGIT))


def _resolved(architecture, model) -> str:
    """The architecture with the widths the weights gave (``mlp:sigmoid`` as ``mlp:3-16-16-1:sigmoid``): what
    report.json records is what ran."""
    spec = parse_architecture(architecture) if isinstance(architecture, str) else architecture
    if spec.widths is None:
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        widths = (linears[0].in_features, *(m.out_features for m in linears))
        # (a ':logit' head's one output, built as the two logits (0, z))
        spec = dataclasses.replace(spec, widths=widths[:-1] + (1,) if spec.output_activation == BINARY_LOGIT
                                   else widths)
    return str(spec)
