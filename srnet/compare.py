"""How faithfully each explainer reproduces a network, inside and outside its data.

Every explainer is fitted on the same network and training points, then
asked to predict the network at the same evaluation points:

* regression: points drawn uniformly from the training box
  (``interpolation``) and from a wider box around it (``extrapolation``): the
  paper's test box for its reference networks, else the training range
  widened by 50 % on each side.  As the paper's, the wider box holds the
  training box, and its points are drawn over all of it: the share of them
  inside the training box is its share of the volume (a fifth for kkk0's
  [-1, 1] in [-5, 5], half for one input widened by 50 % on each side, less
  with every input); SRNet's own ``beyond`` region, by contrast, lies
  outside its domain;
* classification: the training rows (``train``) and held-out rows (``test``).

The network labels every point.  Metrics per explainer and domain: RMSE and
R^2 against the network (class probabilities for classifiers), agreement
with the network's class (classifiers), the seconds the explainer took (fit
and predictions), and the size of its explanation.

Two protocols, both reported:

* at the point (``rmse``, ``r2``, ``agreement``), the SRNet paper's: a local
  surrogate explains each evaluation point and predicts there.  LIME queries
  the network at the explained point itself, so far from the data (where its
  other samples get no weight) it returns the network's own value there;
* around the point (``*_around``): each evaluation point is moved by a small
  random step (5 % of the training box's width per input), and every
  explainer predicts the network there, local surrogates with the model they
  built at the original point.  This is the fidelity of the explanation
  itself, not of a lookup.
"""

from __future__ import annotations

import math
import sys
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
import sympy

from srnet.cgp import driver
from srnet.coordinates import written_definitions, z_name
from srnet.data import MIN_ROWS, check_budget, check_matrix, check_rows, counted, data_box, random_generator, widen_box
from srnet.domain import check_box, description_text, sample_box
from srnet.explain.base import Explainer, LocalLinearExplainer, as_network_function, check_task
from srnet.explain.formulas import CGPDirectExplainer, SRNetExplainer
from srnet.explain.network import NetworkFunction
from srnet.expr.symbolic import common_factor_out
from srnet.metrics import class_agreement, format_r2, is_constant, rmse_r2
from srnet.names import check_columns, feature_symbols, input_names, name_list
from srnet.progress import warm_up_kernels

NEIGHBOURHOOD = 0.05  # step of the "around" protocol, as a fraction of the training box's width
_CHUNK = 50  # points per progress-bar step for local explainers
VALIDATION_WIDENING = 0.25  # default validation box: the training box widened by a quarter on each side
#: The boxes a regression comparison reads (see :func:`compare`).
BOX_NAMES = ("training", "validation", "test")


@dataclass
class Comparison:
    """The outcome of :func:`compare`: records plus what the plots need."""

    task: str
    records: list[dict]
    points: dict[str, np.ndarray]
    network_outputs: dict[str, np.ndarray]
    predictions: dict[str, dict[str, np.ndarray]]
    explainers: dict[str, Explainer] = field(repr=False)
    boxes: dict[str, np.ndarray] | None = None

    interrupted: bool = False

    def table(self, written_to: str | None = None) -> str:
        """The records as a text table whose columns never touch.  ``written_to``: the file the records are
        written to (the command line's compare.json), where a formula cut here is whole; else the records
        themselves (a table printed from Python pointed at a compare.json that no one had written)."""
        where = written_to or "the records"
        def share(value):
            return "" if value is None else f"{value:.1%}"

        rows = [[r["explainer"], r["domain"], f"{r['rmse']:.4g}", format_r2(r["r2"]), share(r["agreement"]),
                 f"{r['rmse_around']:.4g}", share(r["agreement_around"]), f"{r['seconds']:.1f}", str(r["size"])]
                for r in self.records]
        # a classifier's rmse and r2 are of its class probabilities (explain's are of the logits): say so
        prob = "prob " if self.task == "classification" else ""
        header = ["explainer", "domain", f"{prob}rmse", f"{prob}r2", "agreement", f"{prob}rmse around",
                  "agr. around", "seconds", "size"]
        if self.task != "classification":  # a regression has no classes: two empty columns
            keep = [k for k, name in enumerate(header) if name not in ("agreement", "agr. around")]
            header, rows = [header[k] for k in keep], [[row[k] for k in keep] for row in rows]
        table = format_table(header, rows, left=2)
        minus = f"null in {written_to}" if written_to else "in the records"
        notes = [f"note: the network's output is the same at every {domain} point: R2 there is 1 for an explanation "
                 f"that matches it exactly, else -inf ({minus}); the RMSE says how close each comes"
                 for domain in self.constant_domains()]
        cut = {r["explainer"]: r["seconds"] for r in self.records if r.get("interrupted")}
        notes += [f"note: {name}'s search was cut short by Ctrl-C after {seconds:.1f} s: its figures are of its best "
                  f"formula so far" for name, seconds in cut.items()]  # (said in the CSV and the last line only)
        formulas = {r["explainer"]: r["formula"] for r in self.records if r.get("formula")}
        lines = [f"  {name}: {cut_text('; '.join(texts), see=where)}" for name, texts in formulas.items()]
        definitions = list(dict.fromkeys(r["standardised_symbols"] for r in self.records
                                         if r.get("standardised_symbols")))
        if definitions:  # (one map of the data for every explainer: the same text, said once)
            lines.append(f"  (inputs far from 0 for their spread are written centred and scaled, as in their own units "
                         f"each constant would need many more digits: {'; '.join(definitions)})")
        if any(getattr(explainer, "is_decision_", False) for explainer in self.explainers.values()):
            # (a one-logit network's user knows its logit z, not y0 and y1: the (0, z) it is explained as)
            lines.append("  (d = y1 - y0: the logit difference that decides the class, class 1 where d > 0; a "
                         "network of one logit z is explained as the logits (0, z), so d is z)")
        return "\n".join([table, *notes]) + ("\nformulas compared:\n" + "\n".join(lines) if lines else "")

    def constant_domains(self) -> list[str]:
        """The point sets on which the network's output does not vary (a saturated classifier's test rows), where
        R^2 has no variance to explain (:func:`srnet.metrics.rmse_r2`: 1 or -inf)."""
        return [domain for domain, output in self.network_outputs.items() if is_constant(output)]


#: Characters of a formula printed in the terminal (the JSON written beside keeps it whole).
FORMULA_CHARACTERS = 160


def cut_text(text, limit: int = FORMULA_CHARACTERS, *, see: str = "report.json") -> str:
    """``text`` as printed: cut to ``limit`` characters, pointer to ``see`` (where it is whole) included
    (iris's formulas ran to 1,600 characters a line)."""
    text = str(text)
    if len(text) <= limit:
        return text
    cut = f"... ({len(text)} characters: see {see})"
    return text[:max(limit - len(cut), 20)] + cut


def format_table(header: list[str], rows: list[list[str]], *, left: int = 1, gap: int = 2) -> str:
    """Text cells in columns as wide as their widest cell, ``gap`` spaces
    apart (so neighbours never touch); the first ``left`` columns are
    left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells):
        return (" " * gap).join(str(c).ljust(w) if j < left else str(c).rjust(w)
                                for j, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header)] + [line(row) for row in rows])


def _metrics(network: np.ndarray, predicted: np.ndarray, task: str) -> dict:
    rmse, r2 = rmse_r2(network, predicted)
    agreement = (class_agreement(predicted.reshape(len(predicted), -1), network.reshape(len(network), -1))
                 if task == "classification" else None)
    return {"rmse": rmse, "r2": r2, "agreement": agreement}


def _at_and_around(explainer: Explainer, X: np.ndarray, nearby: np.ndarray, bar=None):
    """:meth:`Explainer.predict_at_and_around`, with ``bar`` counting the
    points done (local surrogates go in chunks, so that the bar moves)."""
    if bar is not None and isinstance(explainer, LocalLinearExplainer) and len(X) > _CHUNK:
        parts = [_at_and_around(explainer, X[i:i + _CHUNK], nearby[i:i + _CHUNK], bar)
                 for i in range(0, len(X), _CHUNK)]
        return np.concatenate([at for at, _ in parts]), np.concatenate([near for _, near in parts])
    answers = explainer.predict_at_and_around(X, nearby)
    if bar is not None:
        bar.update(len(X))
    return answers


def _progress(enabled: bool, name: str, domain: str, total: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{name} {domain}", unit="pt", leave=True)


def _explainer_seed(base_seed: int, name: str) -> int:
    """An explainer's seed, from the run's and its own name: the same whichever other explainers run beside it
    (drawn in turn from one generator, SRNet's formula changed when LIME was added to the run)."""
    return int(np.random.SeedSequence([base_seed, zlib.crc32(name.encode())]).generate_state(1)[0] % 2**31)


def _warm_up(explainer: Explainer, progress: bool) -> None:
    """Pay the process's one-time costs of srnet's engine before the explainer's clock starts (once: later calls
    find them paid): its kernels (loaded from numba's cache, 1.5 s; compiled on a machine's first run, a minute or
    more), SRNet's module and torch's first optimiser (SRNet's refinement; it imports torch._dynamo, 3 s).
    Charged to whichever explainer used them first, they made srnet (first by default) seconds slower than
    cgp_direct beside it at the same budget."""
    if isinstance(explainer, (SRNetExplainer, CGPDirectExplainer)):
        warm_up_kernels(progress)  # (a first run's minute of compiling is announced, as SRNet's own fit does)
    if isinstance(explainer, SRNetExplainer):
        import torch

        import srnet.extract  # noqa: F401

        torch.optim.LBFGS([torch.zeros(1, requires_grad=True)])


def _interrupted(explainer: Explainer) -> bool:
    """Whether Ctrl-C stopped the explainer's own search (it then keeps its best so far)."""
    return getattr(getattr(explainer, "model_", None), "stop_reason_", None) == "interrupted"


def _checked_test(X_test, n_features: int) -> np.ndarray:
    X_test = check_matrix(X_test, "X_test")
    if len(X_test) < 2:  # one row has no variance: R^2 -inf beside a tiny RMSE
        raise ValueError(f"X_test must have >= 2 rows (R^2 needs two points), got {len(X_test)}")
    if X_test.shape[1] != n_features:
        raise ValueError(f"X_test has {counted(X_test.shape[1], 'column')} but the network expects {n_features}")
    return X_test


def _sampled(X: np.ndarray, n_points: int, rng) -> np.ndarray:
    """X, or a seeded sample of ``n_points`` of its rows (in their order) when it has more."""
    return X if len(X) <= n_points else X[np.sort(rng.choice(len(X), n_points, replace=False))]


#: The box each regression point set is sampled in.
_BOX_OF = {"interpolation": "training", "extrapolation": "test"}


def _network_on(network, domain: str, X: np.ndarray, boxes: dict) -> np.ndarray:
    """The network's outputs on a point set; where it is not finite on a box's points, the message names that
    box and how to give another (the probe's own counted "rows" the user never gave)."""
    try:
        return network(X)
    except ValueError as error:
        box = boxes.get(_BOX_OF.get(domain))
        if box is None:
            raise
        text = description_text({"kind": "box", "factor": None, "box": np.asarray(box).tolist()})
        raise ValueError(f"{error} (the {len(X)} points of '{domain}', sampled in the {_BOX_OF[domain]} {text}); "
                         f"give boxes={{'{_BOX_OF[domain]}': [(low, high), ...]}} where the network is defined") \
            from None


def _checked_explainers(explainers) -> dict[str, Explainer]:
    """``explainers`` as ``{name: Explainer}``: a list of names built with :func:`make_explainers`'s defaults
    (``compare(net, X, ["maple"])`` was an AttributeError: 'list' object has no attribute 'items'), every value
    checked before any explainer is fitted (a wrong one was found only after the ones before it had run)."""
    if explainers is None:
        raise ValueError("no explainers to compare")
    if isinstance(explainers, (str, Explainer)):
        explainers = [explainers]
    if not hasattr(explainers, "items"):  # names, or explainers named by their own name (as make_explainers does)
        from srnet.explain.factory import make_explainers

        given = list(explainers)
        made = make_explainers([e for e in given if not isinstance(e, Explainer)])
        explainers = {(e.name if isinstance(e, Explainer) else e): (e if isinstance(e, Explainer) else made[e])
                      for e in given}
    if not explainers:
        raise ValueError("no explainers to compare")
    for name, explainer in explainers.items():
        if not isinstance(explainer, Explainer):
            raise TypeError(f"explainers[{name!r}] is a {type(explainer).__name__}, not an unfitted srnet Explainer "
                            f"(make one with srnet.explain.make_explainer({name!r}), or pass a list of names)")
    return dict(explainers)


def compare(network: NetworkFunction, X_train, explainers: dict[str, Explainer] | list[str], *, task: str | None = None,
            X_test=None, boxes: dict | None = None, n_points: int = 1000, random_state=None,
            progress: bool = False, feature_names=None, checkpoint=None) -> Comparison:
    """Fit every explainer on ``X_train`` and measure it against the network.

    Parameters
    ----------
    network : NetworkFunction, torch module or fitted scikit-learn MLP
        The network (a module is wrapped in a NetworkFunction, as the explainers wrap it).
    X_train : array-like of shape (n, n_features)
    explainers : dict of name -> unfitted Explainer, or a list of names or unfitted Explainers
        Names are built by :func:`srnet.explain.make_explainers` with its defaults (10 s per search); an
        Explainer in a list goes by its own name.
    task : {"regression", "classification"} or None
        Checked against the network (a classifier has a softmax head); None
        takes the network's.
    X_test : array-like, optional
        Held-out rows, measured as the domain ``"test"`` and never shown to
        an explainer (classification default: a seeded quarter of X_train
        is held out; regression: none, the boxes' points are measured).
    boxes : dict, optional
        Regression: ``"training"``, ``"validation"`` and ``"test"`` boxes
        ((n_features, 2)).  The network labels ``n_points`` validation points
        for the explainers (MAPLE selects features on them; formulas learn
        from them as the SRNet paper did); test-box points are never shown to
        an explainer.  Defaults: the data's bounding box, that box widened by
        25 % (validation) and by 50 % (test) on each side.
    n_points : int, default 1000
        Evaluation points per domain (regression: drawn from each box;
        classification: a seeded sample of the rows when there are more).
    progress : bool, default False
        A progress bar (on stderr) per explainer and point set.
    feature_names : sequence of str, optional
        The inputs' names: the formulas are printed in them (as
        ``srnet explain`` prints its own), not in x0, x1, ...
    checkpoint : callable, optional
        ``checkpoint(comparison)`` after each explainer is measured, with the
        :class:`Comparison` so far (``srnet compare`` writes its
        :func:`comparison_document`: a killed comparison keeps the explainers
        it measured).

    Ctrl-C (KeyboardInterrupt) ends the comparison early: the explainer
    whose search it stopped is measured with its best formula so far (an
    explainer without a search of its own is dropped), later ones are
    skipped, and ``Comparison.interrupted`` is True.
    """
    rng = random_generator(random_state)
    n_points = check_budget("n_points", n_points, integer=True)
    if n_points < 2:  # one point has no variance: R^2 -inf beside a tiny RMSE
        raise ValueError(f"n_points must be >= 2 (R^2 needs two points), got {n_points}")
    # a DataFrame in another column order than the model's was compared in silence (SRNet refuses it); its names,
    # or the model's, name the formulas' inputs (they read x0, x1, ... where SRNet.fit read the columns)
    names = input_names(X_train, network)
    if X_test is not None:
        check_columns(getattr(X_test, "columns", None), names, "X_train's")
    X_train = check_rows(check_matrix(X_train, "X_train"), name="X_train")
    network = as_network_function(network)
    if not isinstance(network, NetworkFunction):  # ('function' object has no attribute 'plan')
        raise TypeError(f"compare measures a network srnet can probe (a torch module, a fitted scikit-learn MLP or "
                        f"a NetworkFunction), not a {type(network).__name__}")
    n_features = network.plan.n_features
    if X_train.shape[1] != n_features:
        raise ValueError(f"X_train has {counted(X_train.shape[1], 'column')} but the network expects {n_features}")
    task = task or network.task
    check_task(network, task)
    explainers = _checked_explainers(explainers)
    feature_names = name_list(feature_names) if feature_names is not None else names
    if feature_names is not None and len(feature_names) != n_features:  # else half the formula is renamed
        raise ValueError(f"{len(feature_names)} feature names for a network of {n_features} inputs")
    X_valid = None
    used_boxes = None
    if task == "regression":
        boxes = boxes or {}
        unknown = sorted(set(boxes) - set(BOX_NAMES))
        if unknown:  # a typo ("tset") silently kept the default box: another protocol than the one asked
            raise ValueError(f"unknown box {unknown[0]!r}; valid: {', '.join(BOX_NAMES)}")
        training = check_box(boxes.get("training", data_box(X_train)), n_features, "training")
        test = check_box(boxes.get("test", widen_box(training)), n_features, "test")
        used_boxes = {"training": training, "test": test}
        points = {"interpolation": sample_box(training, n_points, rng),
                  "extrapolation": sample_box(test, n_points, rng)}
        validation = check_box(boxes.get("validation", widen_box(training, VALIDATION_WIDENING)), n_features,
                               "validation")
        used_boxes["validation"] = validation
        X_valid = sample_box(validation, n_points, rng)
        if X_test is not None:  # (they were ignored without a word)
            points["test"] = _sampled(_checked_test(X_test, n_features), n_points, rng)
    else:
        if boxes:  # (they were ignored without a word: a classifier is measured on its rows)
            raise ValueError("boxes are for regression; a classifier is measured on its training and test rows")
        if X_test is None:
            order = rng.permutation(len(X_train))
            cut = max(1, int(0.75 * len(X_train)))
            if cut < MIN_ROWS:
                raise ValueError(f"the data have {len(X_train)} rows; with a quarter held out as test rows, {cut} "
                                 f"are left to learn from and srnet needs {MIN_ROWS}: give at least "
                                 f"{math.ceil(MIN_ROWS / 0.75)} rows (or, in Python, X_test)")
            X_train, X_test = X_train[order[:cut]], X_train[order[cut:]]
        X_test = _checked_test(X_test, n_features)
        # explainers learn from all of X_train; they are measured on at most n_points rows of each
        points = {domain: _sampled(X, n_points, rng) for domain, X in (("train", X_train), ("test", X_test))}
    network_outputs = {domain: _network_on(network, domain, X, used_boxes) for domain, X in points.items()}
    spread = data_box(X_train) if task == "classification" else used_boxes["training"]
    steps = NEIGHBOURHOOD * (spread[:, 1] - spread[:, 0])
    nearby = {domain: X + rng.normal(size=X.shape) * steps for domain, X in points.items()}
    network_nearby = {domain: network(X) for domain, X in nearby.items()}

    records, predictions, fitted = [], {}, {}
    interrupted = False
    base_seed = int(rng.integers(2**31))
    for name, explainer in explainers.items():
        bars = []
        try:
            if progress:
                from tqdm.auto import tqdm

                tqdm.write(f"fitting {name} ...", file=sys.stderr)
            _warm_up(explainer, progress)
            started = time.perf_counter()
            explainer.fit(network, X_train, X_valid=X_valid, task=task, random_state=_explainer_seed(base_seed, name))
            interrupted = _interrupted(explainer)  # its search stopped early: measure it, then stop
            answers = {}
            for domain, X in points.items():
                bars.append(_progress(progress, name, domain, len(X)))
                answers[domain] = _at_and_around(explainer, X, nearby[domain], bars[-1])
        except (KeyboardInterrupt, SystemError) as error:  # Ctrl-C: keep the explainers measured so far
            if not (driver.is_interrupt(error) and driver.KEEP_BEST_ON_INTERRUPT):
                raise
            interrupted = True
            break
        finally:
            for bar in bars:
                if bar is not None:
                    bar.close()
        seconds = time.perf_counter() - started
        predictions[name] = {domain: at for domain, (at, _) in answers.items()}
        around = {domain: near for domain, (_, near) in answers.items()}
        fitted[name] = explainer
        for domain in points:
            record = {"explainer": name, "domain": domain}
            record.update(_metrics(network_outputs[domain], predictions[name][domain], task))
            record.update({f"{key}_around": value for key, value in
                           _metrics(network_nearby[domain], around[domain], task).items()})
            record.update(seconds=seconds, size=int(explainer.size_), interrupted=interrupted,
                          formula=_formula_text(explainer, feature_names),
                          standardised_symbols=_definitions_text(explainer, feature_names))
            records.append(record)
        if checkpoint is not None and not interrupted:
            checkpoint(Comparison(task, records, points, network_outputs, predictions, fitted, used_boxes))
        if interrupted:
            break
    return Comparison(task, records, points, network_outputs, predictions, fitted, used_boxes, interrupted)


def _formula_text(explainer, feature_names=None) -> list[str] | None:
    """A formula explainer's formula per output as read, the one its ``size_`` counts (``readable_formulas_``),
    in the features' names when given (explainers write x0, x1, ... and z_x0 for an input far from 0; None for
    LIME and MAPLE, whose explanation is a local model per point)."""
    formulas = getattr(explainer, "readable_formulas_", None)
    if formulas is None:
        return None
    if feature_names is not None:
        named = _named_symbols(feature_names)
        # (renaming rebuilds the sum, and sympy distributes a factored-out coefficient again: factored anew)
        formulas = [common_factor_out(f.xreplace({s: sympy.Symbol(named[s.name], **s.assumptions0)
                                                  for s in f.free_symbols if s.name in named}))
                    for f in formulas]
    if getattr(explainer, "is_decision_", False):  # a two-class formula: its logit difference
        return [f"d = y1 - y0 = {formulas[0]}"]
    return [str(f) for f in formulas]


def _named_symbols(feature_names) -> dict[str, str]:
    """The explainers' symbol names (x0, x1, ..., and z_x0 for x0 written centred and scaled: see
    :func:`srnet.explain.formulas.readable_formulas`) -> the features' (year, z_year), each z unlike any feature."""
    named = feature_symbols(feature_names)
    taken = set(named)
    renamed = {f"x{j}": name for j, name in enumerate(named)}
    renamed.update({f"z_x{j}": z_name(name, taken) for j, name in enumerate(named)})
    return renamed


def _definitions_text(explainer, feature_names=None) -> str | None:
    """The z an explainer's formulas write for inputs far from 0, as "z_year = (year - 2005)/8.66", in the
    features' names when given; None when it writes none (LIME, MAPLE: no formula)."""
    written = getattr(explainer, "_written", None)
    if not written:
        return None
    named = _named_symbols(feature_names) if feature_names is not None else {}
    renamed = {sympy.Symbol(named.get(x.name, x.name)): (sympy.Symbol(named.get(z.name, z.name)), centre, scale)
               for x, (z, centre, scale) in written.items()}
    return "; ".join(f"{z} = {text}" for z, text in written_definitions(renamed).items())


def most_varied_inputs(X: np.ndarray) -> tuple[int, int]:
    """Two inputs for a 2-D map: the one of the largest standardised spread, then the one whose spread is
    largest once its correlation with the first is discounted (spread x (1 - |r|)): standardised breast-cancer
    inputs, all of spread near 1, gave area against radius (r = 0.99), whose rows lie on a thin diagonal of
    the map and leave the rest of it off the data.  In the inputs' order (a two-input map drew v across, u up)."""
    std = np.std(X, axis=0)
    spread = std / (np.abs(np.mean(X, axis=0)) + std + 1e-300)
    first = int(np.argmax(spread))
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = X - X.mean(axis=0)
        r = centred.T @ centred[:, first] / (len(X) * std * std[first])
    independent = spread * (1.0 - np.nan_to_num(np.abs(r), nan=0.0).clip(0.0, 1.0))
    independent[first] = -np.inf
    second = int(np.argmax(independent))
    return min(first, second), max(first, second)


#: Every plot a comparison may draw (a sine network's explainers.png stayed beside an iris comparison's report).
COMPARISON_PLOTS = ("fidelity.png", "explainers.png", "decision_boundaries.png")


def comparison_document(comparison: Comparison, *, unfinished=(), extra: dict | None = None) -> dict:
    """compare.json's content: the records, the boxes measured on, and ``"unfinished"``, the explainers asked for
    but not measured yet (a checkpoint's, written after each explainer; empty in the finished comparison)."""
    document = {"task": comparison.task, "interrupted": comparison.interrupted,
                "unfinished": list(unfinished), "records": comparison.records, **(extra or {})}
    if comparison.boxes:
        document["boxes"] = {k: v.tolist() for k, v in comparison.boxes.items()}
    return document


def write_comparison(comparison: Comparison, network: NetworkFunction, out_dir, *, feature_names=None,
                     extra: dict | None = None) -> list:
    """compare.json, compare.csv and the plots of a comparison in ``out_dir``.

    Plots: fidelity bars; for 1-D/2-D regression the network and every
    explainer across both boxes; for classifiers of two or more inputs,
    decision boundaries on the two most varied inputs.  Raises ValueError
    when the comparison has no records.
    """
    import csv
    from pathlib import Path

    from srnet import plots
    from srnet.jsonio import atomic_write_text, dumps

    if not comparison.records:
        raise ValueError("the comparison has no records (no explainer finished): nothing to write")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in COMPARISON_PLOTS:  # an earlier comparison's plot that this one does not draw must not stay beside it
        (out_dir / name).unlink(missing_ok=True)
    atomic_write_text(out_dir / "compare.json", dumps(comparison_document(comparison, extra=extra), indent=2))
    with open(out_dir / "compare.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(comparison.records[0]))
        writer.writeheader()
        writer.writerows({**r, "formula": "; ".join(r["formula"]) if r.get("formula") else ""}
                         for r in comparison.records)
    written = [out_dir / "compare.json", out_dir / "compare.csv",
               plots.plot_fidelity(comparison.records, out_dir / "fidelity.png",
                                   counts={domain: len(points) for domain, points in comparison.points.items()})]
    functions = {"network": network, **{name: e.predict for name, e in comparison.explainers.items()}}
    if comparison.task == "regression" and comparison.boxes["training"].shape[0] <= 2:
        training, test = comparison.boxes["training"], comparison.boxes["test"]
        # the axes named as the formulas name the inputs
        written.append(plots.plot_inputs(functions, training, test, out_dir / "explainers.png",
                                         None if feature_names is None else list(feature_names)))
    elif comparison.task == "classification" and comparison.points["train"].shape[1] >= 2:  # a map needs two
        X = comparison.points["train"]
        written.append(plots.plot_decision_boundaries(functions, X, most_varied_inputs(X),
                                                      out_dir / "decision_boundaries.png",
                                                      feature_names=feature_names))
    return written
