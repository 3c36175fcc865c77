"""The ``srnet`` command line: subcommands that call the library, nothing more."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from pathlib import Path

from srnet.metrics import (
    LOOSE_BELOW,
    LOOSE_WARNING,
    fidelity_text,
    loose_figure,
    loose_outputs,
    loose_outputs_text,
    quiet_network_text,
)

DEMO_BENCHMARK = "kkk0"  # sin x + sin(x + x^2), the SRNet paper's first network
_STARTED = [time.perf_counter()]  # when main() started: the report's command_seconds


def _shown(text, limit: int | None = None) -> str:
    """A formula as printed, cut with a pointer to report.json (:func:`srnet.compare.cut_text`, imported
    when first needed: the command line starts without the library)."""
    from srnet.compare import FORMULA_CHARACTERS, cut_text

    return cut_text(text, FORMULA_CHARACTERS if limit is None else limit)


def _region_figures(model, output: int | None = None) -> tuple[str, str]:
    """(what is measured, its figure per region: "rows 0.999991, domain 0.999980, ...") of the selected formula,
    as the explanation prints them and network_vs_formula.png's title repeats them; ``output``: of that output
    alone, where there are several (output y1's plot was titled with the pooled figures, 0.98 for its 0.91)."""
    from srnet.metrics import format_r2
    if model.selected_["validation_agreement"] is not None:  # judged by its classes: a formula refined to the
        # network's probabilities need not match its logits
        return "class agreement with the network", ", ".join(
            f"{name} {100 * figures['agreement']:.1f} %" for name, figures in _reported(model.regions_)
            if figures.get("agreement") is not None)
    if output is not None:
        return f"R2 of y{output} against the network", ", ".join(
            f"{name} {format_r2(figures['r2_per_output'][output])}" for name, figures in _reported(model.regions_)
            if "r2_per_output" in figures)
    return "R2 against the network", ", ".join(f"{name} {format_r2(figures['r2'])}"
                                                for name, figures in _reported(model.regions_))


def _size_of(model, output: int, n_outputs: int) -> str:
    """The selected formula's size as an output's plot names it: "10 nodes", or with several outputs that output's
    own beside the whole ("y0: 6 nodes (14 in all)"; y0's plot named the 14 of both)."""
    total = model.selected_["complexity"]
    if n_outputs == 1:
        return f"{total} nodes"
    return f"y{output}: {model.selected_['complexity_per_output'][output]} nodes ({total} in all)"


def _reported(regions: dict):
    """The regions whose figures are printed: all but those that selected the formula, the domain's validation
    sample and a classifier's validation rows, which read optimistic (the front below prints what selection
    weighed: a headline of rows 98.1 %, domain 95.6 %, validation-rows 100.0 % read as the best of the three)."""
    return [(name, figures) for name, figures in regions.items() if name not in ("validation", "validation-rows")]


def _print_explanation(model, output: str | None = None, labels: dict | None = None) -> None:
    """``output``: the network's output module, when the layers explained stop before it (``--layers``);
    ``labels``: each layer's modules and their classes (:func:`srnet.probe.layer_labels`), printed for its name."""
    from srnet.domain import as_domain, description_text
    from srnet.formulas import off_front_note, readable_cap, selection_figures
    from srnet.metrics import format_r2
    from srnet.names import class_name
    report = model.report()
    renamed = {name: symbol for name, symbol in (model.feature_symbols_ or {}).items() if name != symbol}
    if renamed:  # the formulas read x2x and dose_mg: which columns are they?
        print("inputs renamed in the formulas (a symbol must read one way): " + ", ".join(
            f"{symbol} is column '{name}'" for name, symbol in renamed.items()))
    from srnet.coordinates import map_text, written_standardised
    mapping, symbols = model.input_map_, model.input_symbols_
    read_as_z = written_standardised(mapping, symbols)  # (the rule standardised_symbols_ was written by)
    own = [map_text(symbols[j], mapping.centre[j], mapping.scale[j]) for j in mapping.moved
           if symbols[j] not in read_as_z] if mapping is not None else []
    written = getattr(model, "standardised_symbols_", None) or {}
    if own:  # why the formulas read 0.0565*age - 2.927 where age was given
        print("inputs far from unit scale searched centred and scaled (srnet's functions suit inputs of unit "
              "scale), the formulas written back in the inputs' own units: " + ", ".join(own))
    if written:  # a Unix time's constants need ten digits in its own units
        print("inputs far from 0 for their spread written as their centred and scaled form (in their own units "
              "each constant would need many more digits; report.json's formula reads the inputs' own units): "
              + ", ".join(f"{z} = {text}" for z, text in written.items()))
    print("layer by layer (each layer's features F from the layer before; hK_j, unit j of layer K, is a weighted "
          "sum of layer K's F: report.json's formula_steps write each F with those sums substituted):")
    for layer in report["layers"]:
        units = f"{layer['width']} unit" + ("s" if layer["width"] != 1 else "")
        r2 = format_r2(layer["r2"])  # None: the report's JSON null
        label = (labels or {}).get(layer["name"], f"module '{layer['name']}'")
        print(f"  layer {layer['index']} ({label}, {units}, R2 {r2}): "
              f"F = {_shown(layer['expression'])}")
    if model.formula_ is None:  # teacher forcing: no whole-network formula
        return
    classifier = model.selected_["validation_agreement"] is not None
    measure, regions = _region_figures(model)
    what = ("the network" if output is None or output == model.layer_names_[-1]
            else f"layer '{model.layer_names_[-1]}' (not the network's output, '{output}')")
    print(f"{what} as one formula ({report['formula_source']}, {report['complexity']} nodes; "
          f"{measure}: {regions}):")
    # a part the formula repeats is written once, under a name (a logit difference spelt out one 11-term linear
    # form three times)
    shared = model.selected_.get("shared")
    texts = (shared or {}).get("expression") or model.selected_["expression"]
    decision = (shared or {}).get("decision") or model.selected_["decision"]
    labels = getattr(model, "classes_", None)  # without labels, the outputs: no class is named wrongly
    labels = None if labels is None else [class_name(v) for v in labels]
    if decision is not None:  # two classes: the logit difference decides; a person reads it
        labels = labels or ("output 0", "output 1")
        print(f"  d = y1 - y0 = {_shown(decision, 800)}\n"
              f"  ({labels[1]} where d > 0, else {labels[0]}; the two logits y0, y1 are in report.json)")
    else:
        names = ["y"] if len(texts) == 1 else [f"y{j}" for j in range(len(texts))]
        sizes = model.selected_["complexity_per_output"]
        # each output's own R2: the pooled figure above weighs outputs by their variance
        own = model.selected_["figures"]["domain"].get("r2_per_output") if not classifier else None
        for j, (name, text, size) in enumerate(zip(names, texts, sizes)):
            figure = "" if own is None else f"; R2 on the domain {format_r2(own[j])}"
            which = f"{labels[j]}'s logit; " if classifier and labels and len(labels) == len(texts) else ""
            print(f"  {name} = {_shown(text, 800)}" + (f"   ({which}{size} nodes{figure})" if len(texts) > 1 else ""))
    if shared:
        for name, part in shared["parts"].items():
            print(f"  where {name} = {_shown(part, 800)}")
        print("  (each part the formula repeats is written once, under its name; report.json's expression spells "
              "them out)")
    for problem in report["singularities"] or []:
        print(f"  warning: {problem}")
    beyond, domain = model.regions_.get("beyond"), model.regions_.get("domain")
    fit = loose_figure(domain, classifier)
    if fit is not None and fit < LOOSE_BELOW:  # printed like the rest, the figure above was easy to miss
        quiet = "" if classifier else quiet_network_text(domain, model.regions_.get("rows"))
        print(f"  warning: the formula follows the network only loosely on the domain "
              f"({fidelity_text(fit, classifier)}{quiet}): read it as a sketch, not the network's law; "
              f"{_closer_formula(model, classifier)}")
    elif fit is not None and not classifier and (loose := loose_outputs(domain)):
        print(f"  warning: the formula follows the network only loosely on the domain "
              f"{loose_outputs_text(loose, fit)} (each output's R2 is printed beside its formula above)")
    if not classifier and beyond and domain and beyond["r2"] < min(0.0, domain["r2"] - 0.5):
        # selection reads the domain alone: a formula wildly off just past it is no answer there (feynman1's
        # 1493-node chain: domain 0.997, beyond -57777)
        print(f"  warning: just beyond the explanation domain the formula leaves the network (R2 "
              f"{beyond['r2']:.4g} there); to use it there, widen the domain (--domain widen:F or a box)")
    # what "domain" means in the figures above: auto's choice depends on the data (its inputs' count and independence)
    chosen = " (auto)" if as_domain(model.domain).kind == "auto" else ""
    print(f"  explanation domain: {description_text(model.domain_)}{chosen}")
    if model.domain_.get("note"):
        print(f"  note: {model.domain_['note']}")
    alternative = model.readable_  # what --complexity 30 (or its own size) selects, when the selected is longer
    # judged, as the headline, on the domain's own sample (the validation sample's agreement reads optimistic)
    quality = None if alternative is None else loose_figure(alternative["figures"]["domain"], classifier)
    if alternative is not None and (quality is None or not quality >= LOOSE_BELOW):
        # an "alternative" of R2 0.47 is no answer to "too long to read?": the front below shows it anyway
        reach = f"class agreement {100 * LOOSE_BELOW:g} % on the domain" if classifier else \
            f"R2 {LOOSE_BELOW:g} on the domain"
        # named by the cap it was chosen under: "no formula of <= 11 nodes" read as if 29 nodes were not tried
        cap = readable_cap(model.selected_["decision"], len(model.selected_["expression"]))
        print(f"  (the most faithful formula of at most {cap} nodes, {alternative['complexity']} nodes long, stays "
              f"below {reach}: the front below has the best of each size)")
    elif alternative is None and model.selected_ is not None:
        # (a wine classifier's 123 nodes, none of its formulas under 90: nothing was said, where the README
        # promised an answer to "too long to read?")
        from srnet.data import counted
        from srnet.formulas import READABLE_COMPLEXITY

        selected = model.selected_
        cap = readable_cap(selected["decision"], len(selected["expression"]))
        if selected["complexity"] > cap:
            per = f", {READABLE_COMPLEXITY} per formula read" if cap != READABLE_COMPLEXITY else ""
            print(f"  (no formula found has {counted(cap, 'node')} or fewer{per}: the front below has the shortest "
                  f"of them)")
    else:
        score = (f"class agreement on the domain {100 * quality:.1f} %" if classifier
                 else f"R2 on the domain {format_r2(quality)}")
        poles = "; pole in the domain" if alternative["singularities"] else ""
        print(f"  too long to read? --complexity {alternative['complexity']} selects "
              f"{_read(alternative)}  ({score}{poles})")
    # the figures selection weighed: on the domain's validation sample, which the headline's are not
    where = "the domain's validation sample" if "validation" in model.regions_ else "the domain"
    judged = f"R2 on {where}"
    if classifier:  # the class probabilities' R2 (logits are free up to a shift per row: theirs says little)
        judged = (f"class agreement (validation rows and {where} alike) and " if "validation-rows" in model.regions_
                  else "class agreement and ") + f"class-probability R2 on {where}"
    print(f"Pareto front (nodes, {judged}, formula; --complexity N selects another):")
    shown = list(model.pareto_)
    off_front = off_front_note(model.candidates_, shown, report["formula_source"])
    if off_front:  # chosen for being pole-free, or by select="layerwise" (report.json's "pareto" leaves it out)
        shown = sorted(shown + [model.selected_], key=lambda entry: entry["complexity"])
    for entry in shown:
        mark = "" if entry["source"] != report["formula_source"] else f"  <- selected{off_front}"
        poles = "  (pole in the domain)" if entry["singularities"] else ""
        validation = selection_figures(entry["figures"])
        agreement = f"{100 * entry['validation_agreement']:6.1f} %  " if classifier else ""
        r2 = validation["probability_r2"] if classifier else validation["r2"]
        print(f"  {entry['complexity']:>6}  {agreement}{format_r2(r2):>8}  "
              f"{_shown(_read(entry))}{poles}{mark}")


def _closer_formula(model, classifier: bool) -> str:
    """What to do about a loose formula: name its pole if it has one, and select the front's pole-free one that
    is not loose, when it holds one (:func:`srnet.extract.closer_formula`), else search longer.  Judged on the
    domain, as the headline figure is (the front prints its validation sample's)."""
    from srnet.extract import closer_formula

    pole = "it has a pole inside the domain (see its singularities); " if model.selected_["singularities"] else ""
    closer = closer_formula(model.pareto_, classifier)
    if closer is None:
        return f"{pole}a longer search (--seconds) may do better"
    return (f"{pole}the front below has one of {closer[0]} nodes at {fidelity_text(closer[1], classifier)} on the "
            f"domain: --complexity {closer[0]}")


def _read(entry: dict) -> str:
    """What a person reads of a candidate: a two-class classifier's logit difference (d = ...), else its
    formulas (one per output)."""
    return "; ".join(entry["expression"]) if entry["decision"] is None else f"d = {entry['decision']}"


#: Every plot an explanation may draw (those a run does not draw are removed from its folder: a 1-input demo's
#: network_vs_formula.png stayed beside the report of a 3-input network explained into the same --out).
EXPLANATION_PLOTS = ("convergence.png", "pareto.png", "layers.png", "network_vs_formula.png",
                     "decision_boundaries.png")


#: What the first Ctrl-C after the search does while an explanation is printed and written.
DELIVERING = "interrupted: writing report.json, without the plots not drawn yet (Ctrl-C again quits at once)"


def _write_explanation(model, network, X, out_dir: Path, *, feature_names, box=None, extra=None,
                       others=None, finishing=None) -> dict:
    """report.json and the plots of an explanation, in out_dir.  ``finishing``: the
    :class:`~srnet.cgp.driver.FinishOnInterrupt` the explanation is delivered under; once a Ctrl-C has
    requested the finish, report.json is still written (marked interrupted) and the remaining plots skipped."""
    from srnet.compare import most_varied_inputs
    from srnet.jsonio import dumps
    from srnet.plots import (
        plot_convergence,
        plot_decision_boundaries,
        plot_layer_fits,
        plot_network_vs_formula,
        plot_pareto,
    )
    from srnet.probe import layer_labels, plan_layers, probe

    def interrupted() -> bool:
        return finishing is not None and finishing.requested

    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "report.json").exists():
        print(f"note: {out_dir} held an explanation; it is replaced")
    for name in EXPLANATION_PLOTS:  # an earlier run's plot that this one does not draw must not stay beside it
        (out_dir / name).unlink(missing_ok=True)
    for path in out_dir.glob("network_vs_formula_y[0-9]*.png"):  # one per output, when there were several
        path.unlink(missing_ok=True)
    report = model.report()
    report.update(extra or {})
    report["interrupted"] = report["interrupted"] or interrupted()
    _write_text(out_dir / "report.json", dumps(report, indent=2))  # first, in case plots fail
    # (the history is the layer-wise search's: say so, and where the formula selected came from when elsewhere)
    source = model.formula_.source if model.formula_ is not None else "layerwise"
    convergence_title = "layer-wise search" + ("" if source.startswith("layerwise") else
                                               f"\n(the formula selected came from another search: {source})")
    drawings = [lambda: [plot_convergence(model.history_, out_dir / "convergence.png", title=convergence_title)]]
    # the layer explained when it is not the network's output (--layers): its plots are titled so
    hidden = None if model.layer_names_[-1] == plan_layers(network).output else model.layer_names_[-1]
    if model.formula_ is not None:
        # (a hidden layer's front, --layers, is no front of formulas of the network: say whose it is)
        whose = "the network" if hidden is None else f"layer '{hidden}'"
        drawings.append(lambda: [plot_pareto(model.candidates_, model.pareto_, model.formula_.source,
                                             out_dir / "pareto.png",
                                             title=f"formulas of {whose}: size against fidelity")])
    decision_map = model.is_classifier_ and model.formula_ is not None and X.shape[1] >= 2
    # where layers.png's title says the selected formula is drawn (it named network_vs_formula for classifiers)
    selected_in = ("decision_boundaries.png" if decision_map else None if model.is_classifier_ or
                   model.formula_ is None else "network_vs_formula")
    drawings.append(lambda: [plot_layer_fits(probe(network, X, model.layer_names_), model.predict_layers(X),
                                             model.layer_names_, out_dir / "layers.png",
                                             labels=layer_labels(network, model.layer_names_),
                                             selected_in=selected_in)])
    if decision_map:
        # where the formula's class differs from the network's, over its two most varied inputs (an explained
        # classifier drew no picture of its errors at all)
        drawings.append(lambda: [plot_decision_boundaries(
            {"network": lambda Z: probe(network, Z, model.layer_names_, finite=False)[-1], "formula": model.predict},
            X, most_varied_inputs(X), out_dir / "decision_boundaries.png",
            feature_names=None if feature_names is None else list(feature_names),
            class_labels=getattr(model, "classes_", None), domain_box=model.domain_.get("box"))])
    if not model.is_classifier_:
        n_outputs = 0 if model.formula_ is None else len(model.selected_["expression"])
        drawings.append(lambda: plot_network_vs_formula(
            # beyond the domain the network may overflow (fit only noted it): drawn, not refused
            lambda Z: probe(network, Z, model.layer_names_, finite=False)[-1], model.predict, X,
            out_dir / "network_vs_formula",
            # which formula, and the figures printed for it (the title said neither), each output's own
            description=None if model.formula_ is None else [
                "{}, {}; {}: {}".format(model.formula_.source, _size_of(model, j, n_outputs),
                                        *_region_figures(model, None if n_outputs == 1 else j))
                for j in range(n_outputs)],
            feature_names=feature_names, box=box, others=others, domain_box=model.domain_.get("box"),
            layer=hidden))
    plots = []
    try:
        for draw in drawings:
            if interrupted():
                break
            plots += draw()
    except OSError as error:  # a full disk: "[Errno 28] No space left on device" named no file, nor what was kept
        raise OSError(f"cannot write the plots in {out_dir} ({error.strerror or error}); "
                      f"{out_dir / 'report.json'} holds the explanation") from None
    report["interrupted"] = report["interrupted"] or interrupted()
    report["report_seconds"] = time.perf_counter() - started
    report["command_seconds"] = time.perf_counter() - _STARTED[0]
    _write_text(out_dir / "report.json", dumps(report, indent=2))
    print(f"wrote {out_dir / 'report.json'}" + (f" and {', '.join(p.name for p in plots)}" if plots else ""))
    return report


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a full disk mid-write leaves the earlier file whole, not a cut
    one), its failure naming the file (a full disk's OSError named none)."""
    from srnet.jsonio import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as error:
        raise OSError(f"cannot write {path} ({error.strerror or error})") from None


def _explainer(args):
    from srnet.extract import SRNet

    seconds = None if args.generations is not None else args.seconds  # --generations: instead of seconds
    return SRNet(preset=args.preset, max_seconds=seconds, random_state=args.seed, progress=not args.quiet,
                 max_generations=args.generations, domain=args.domain,
                 select=args.complexity if args.complexity is not None else args.select)


def _demo(args) -> int:
    import torch

    from srnet.benchmarks import get_benchmark
    from srnet.probe import layer_labels
    from srnet.train import train_mlp

    bench = get_benchmark(DEMO_BENCHMARK)
    X, y = bench.sample(random_state=args.seed)
    print(f"srnet demo: a 1-8-8-1 sigmoid network learns y = {bench.expression()} on {len(y)} points, "
          f"then srnet explains it")
    torch.set_num_threads(1)  # a network this small trains fastest on one thread
    network, record = train_mlp(X, y, hidden=(8, 8), activation="sigmoid", epochs=1500, random_state=args.seed)
    print(f"network trained in {record.seconds:.1f} s (final MSE {record.final_loss:.2e})")
    model = _explainer(args).fit(network, X, feature_names=list(bench.variables))
    from srnet.cgp.driver import FinishOnInterrupt

    with FinishOnInterrupt(DELIVERING) as finishing:  # a Ctrl-C now must not lose the explanation found
        _print_explanation(model, labels=layer_labels(network, model.layer_names_))
        print(_fit_figures(model, len(X)))
        report = _write_explanation(model, network, X, Path(args.out), feature_names=list(bench.variables),
                                    extra={"benchmark": bench.name}, others={"true function": bench.truth},
                                    finishing=finishing)
    return _finish(model, args, report)


def _check_model_path(model_arg) -> None:
    """A clear error for a MODEL path that is not there (before any other message)."""
    if not Path(model_arg).exists():
        if Path(model_arg).suffix:  # a file's name (net.pt): the reference folders are beside the point
            raise FileNotFoundError(f"no such model file: '{model_arg}' (resolved from {Path.cwd()})")
        raise FileNotFoundError(
            f"no such model file or folder: '{model_arg}' (resolved from {Path.cwd()}); reference folders "
            f"such as srnet_gecco/regression/kkk0 are not installed with srnet: see 'Reference networks' in "
            f"the README")


def _hold_out(workload, test_size: float, seed: int):
    """The workload with a seeded fraction of its rows held out as X_test."""
    import dataclasses

    import numpy as np

    from srnet.data import MIN_ROWS

    if not test_size:
        return workload
    order = np.random.default_rng(seed).permutation(len(workload.X))
    cut = len(order) - max(2, round(test_size * len(order)))  # R^2 needs two rows (one gave -inf)
    if cut < MIN_ROWS:
        raise ValueError(f"--test-size {test_size:g} of {len(order)} rows leaves {cut} to explain, fewer than "
                         f"{MIN_ROWS} (2 rows at least are held out: an R2 needs two); hold out none "
                         f"(--test-size 0) or give more rows")
    train, test = np.sort(order[:cut]), np.sort(order[cut:])
    print(f"holding out {len(test)} of {len(order)} rows (--test-size {test_size:g}) to measure the formula on")
    changes = dict(X=workload.X[train], X_test=workload.X[test])
    if getattr(workload, "y", None) is not None:  # the data's target, where the loader keeps it
        changes["y"] = workload.y[train]
    return dataclasses.replace(workload, **changes)


def _explained(model, output: str | None) -> str:
    """What the formula computes, as a figure names it: "output", or the layer explained instead of the
    network's output (``output``: that module, when ``--layers`` stops before it)."""
    last = model.layer_names_[-1]
    return "output" if output is None or output == last else f"layer '{last}'"


def _fit_figures(model, n_rows: int, output: str | None = None) -> str:
    """The figures of the two formulas on every row, each named: the selected
    formula (predict) against the network, and the layer-wise chain's fitness."""
    from srnet.metrics import format_r2
    rows = model.regions_.get("rows", {})
    if model.is_classifier_ and "probability_r2" in rows:
        fit = f"class-probability R2 {format_r2(rows['probability_r2'])}, RMSE {rows['probability_rmse']:.4g}"
    else:
        what = "logit R2" if model.is_classifier_ else f"{_explained(model, output)} R2"
        fit = f"{what} {format_r2(model.output_r2_)}, RMSE {model.output_rmse_:.4g}"
    return (f"selected formula against the network on the {n_rows} rows explained: {fit}; layer-wise chain: the "
            f"paper's fitness (mean hidden-layer MSE + output MSE) {model.fitness_:.4g}")


def _held_out_fit(model, workload, output: str | None = None) -> dict:
    """The selected formula against the network on the held-out rows (``SRNet.fidelity``): a regression's R2 and
    RMSE, a classifier's class agreement (printed "train 98.1%, test 97.9%" before the rows' figures, the rows
    named otherwise than the headline's "rows")."""
    from srnet.metrics import format_r2
    if workload.X_test is None:
        return {}
    figures = model.fidelity(workload.model, workload.X_test)
    if model.is_classifier_:
        print(f"on the {len(workload.X_test)} held-out rows: {fidelity_text(figures['agreement'], True)} with the "
              "network")
        return {"agreement_test": figures["agreement"]}
    what = _explained(model, output)
    print(f"on the {len(workload.X_test)} held-out rows: {what} R2 {format_r2(figures['r2'])}, {what} RMSE "
          f"{figures['rmse']:.4g}")
    return {"output_r2_test": figures["r2"], "output_rmse_test": figures["rmse"], "test_rows": len(workload.X_test)}


def _class_labels(workload, layers):
    """The outputs' class labels: those --classes gives, else the data's, sorted as network_fit numbers the
    network's outputs; None without either, for a model that names its own (a scikit-learn classifier's
    classes_), or where their count is not the outputs' (a regression network, or a layer explained instead of
    the output: predict_class names outputs by index)."""
    import numpy as np

    from srnet.data import class_indices
    from srnet.probe import plan_layers

    if (workload.y is None and workload.classes is None) or getattr(workload.model, "classes_", None) is not None:
        return None
    plan = plan_layers(workload.model, layers)
    if not plan.is_classifier:  # a regression network's targets are no class labels (NaN among them: no error)
        return None
    if workload.classes is not None:  # the outputs' labels, as given
        return np.array(workload.classes) if len(workload.classes) == plan.widths[-1] else None
    labels = class_indices(np.asarray(workload.y).reshape(-1))[0]
    if labels.dtype.kind == "f" and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)  # a CSV's labels 0, 1, 2 read as floats: report.json read [0.0, 1.0, 2.0]
    return labels if len(labels) == plan.widths[-1] else None


def _print_columns(workload, args) -> None:
    """Which columns of a data file are the inputs, and whether its first row named them: a first row of numbers
    may be either (wavelengths 400, 410, ...), and nothing said which reading was taken."""
    from srnet.data import has_name_row

    if args.data is None:
        return
    named = has_name_row(args.data)
    if named is None:
        return
    names = workload.feature_names
    shown = ", ".join(names if len(names) <= 8 else [*names[:4], "...", *names[-2:]])
    target = args.target
    if target is not None:
        target = ("; target: the last column" if target == "last" else
                  f"; target: column {target}" if str(target).lstrip("-").isdigit() else f"; target: '{target}'")
    where = ("named by the file's first row" if named else
             "the file has no name row: its first row is data")
    print(f"inputs: {shown} ({where}){target or ''}")


def _explain(args) -> int:
    _check_model_path(args.model)  # (before torch is imported: a mistyped path answered after 4 s)
    from srnet.data import check_rows, counted
    from srnet.loading import fit_warning, load_workload, network_fit, with_classes
    from srnet.metrics import format_r2

    workload = load_workload(args.model, args.data, architecture=args.arch, target=args.target,
                             pmlb_cache=args.pmlb_cache, download=args.download)
    if args.classes is not None:
        workload = with_classes(workload, args.classes)
    check_rows(workload.X, name="--data")  # before any line that reads as a start: the one line printed
    workload = _hold_out(workload, args.test_size, args.seed)
    rows, inputs = workload.X.shape
    print(f"explaining {workload.name} on {counted(rows, 'row')} x {counted(inputs, 'input')}")
    _print_columns(workload, args)
    own = network_fit(workload)  # the network against the data's target: a wrong --arch shows here
    for key, value in own.items():
        if key == "network_fit_note":
            continue
        what = key.split('_')[1]  # a far-off figure in four significant digits (an R2 of 80 digits before)
        shown = "n/a" if value is None else format_r2(value) if what == "r2" else format(value, ".4g")
        note = f" ({own['network_fit_note']})" if "network_fit_note" in own else ""
        print(f"the network itself: {what} {shown}{note}")
    warning = fit_warning(workload, own)
    if warning:
        print(f"warning: {warning}")
    model = _explainer(args).fit(workload.model, workload.X, layers=args.layers,
                                 feature_names=workload.feature_names, classes=_class_labels(workload, args.layers))
    from srnet.cgp.driver import FinishOnInterrupt

    with FinishOnInterrupt(DELIVERING) as finishing:  # a Ctrl-C now must not lose the explanation found
        return _deliver(model, workload, own, args, finishing)


def _note_one_class(model, workload) -> None:
    """Say so when the network answers one class on every row: its explanation is then of a constant
    decision, however well its layers are fitted (PMLB's breast network: per-layer R2 1, after 0
    generations, for a network that never changes its mind)."""
    import numpy as np

    from srnet.probe import probe

    scores = probe(workload.model, workload.X, model.layer_names_)[-1]
    decided = np.unique(np.argmax(scores, axis=1))  # a classifier here has a softmax head of >= 2 outputs
    if decided.size == 1:
        print(f"note: the network answers one class on every one of the {len(workload.X)} rows: what it decides "
              f"is a constant, and so is any faithful formula of it")


def _sources(args) -> dict:
    """The MODEL and --data paths as given, resolved, and --target: where a report's figures came from."""
    return {"model_path": str(Path(args.model).resolve()),
            "data_path": None if args.data is None else (str(Path(args.data).resolve()) if Path(args.data).exists()
                                                          else args.data),  # a PMLB name
            "target": args.target}


def _deliver(model, workload, own: dict, args, finishing) -> int:
    """What ``srnet explain`` prints and writes of a fitted explanation."""
    from srnet.networks import as_network
    from srnet.probe import layer_labels, plan_layers

    output = plan_layers(as_network(workload.model)).output if args.layers else None
    _print_explanation(model, output, layer_labels(workload.model, model.layer_names_))
    # what was explained, to run it again: the files and the target column (the stem alone named neither)
    extra = {"network": workload.name, "architecture": workload.architecture, **_sources(args), **own}
    if model.is_classifier_:
        extra["agreement_train"] = model.agreement_
        _note_one_class(model, workload)
    print(_fit_figures(model, len(workload.X), output))
    extra.update(_held_out_fit(model, workload, output))
    box = workload.boxes["training"] if workload.boxes else None
    report = _write_explanation(model, workload.model, workload.X, Path(args.out),
                                feature_names=workload.feature_names, box=box, extra=extra, finishing=finishing)
    return _finish(model, args, report)


def _compare(args) -> int:
    from srnet.compare import compare, write_comparison
    from srnet.explain import NetworkFunction, check_explainers, make_explainers
    from srnet.loading import load_workload

    names = check_explainers(n.strip() for n in args.explainers.split(",") if n.strip())
    if not names:  # before any loading or printing ("comparing  on ...")
        raise ValueError("--explainers names none; e.g. --explainers srnet,lime,maple")
    _check_model_path(args.model)
    workload = load_workload(args.model, args.data, architecture=args.arch, target=args.target,
                             pmlb_cache=args.pmlb_cache, download=args.download)
    from srnet.data import check_rows, check_varies

    check_rows(workload.X, name="--data")  # before "comparing ... (1 rows)": the one line printed
    check_varies(workload.X, "compare", "give rows that vary")
    explainers = make_explainers(names, max_seconds=args.seconds)
    network = NetworkFunction(workload.model, args.layers)
    width = network.logits(workload.X[:2]).shape[1]
    if network.task == "regression" and width > 1:  # was found after the first explainer's fit, in Python's terms
        what = f"--layers {' '.join(args.layers)} ends in" if args.layers else "the network has"
        raise ValueError(f"{what} {width} outputs, and compare measures one regression output: choose a layer of "
                         f"one unit (or explain the layer with srnet explain)")
    print(f"comparing {', '.join(names)} on {workload.name} ({network.task}, {workload.X.shape[0]} rows)")
    if network.task == "classification" and workload.X_test is None:  # compare's own split, said aloud
        n = workload.X.shape[0]
        print(f"  no test rows given: a seeded quarter ({n - max(1, int(0.75 * n))} of {n} rows) is held out as "
              f"the test rows")
    replacing = (Path(args.out) / "compare.json").exists()  # (before the checkpoints write one)
    about = {"network": workload.name, **_sources(args), "seed": args.seed}
    comparison = compare(network, workload.X, explainers, X_test=workload.X_test, boxes=workload.boxes,
                         n_points=args.points, random_state=args.seed, progress=not args.quiet,
                         feature_names=workload.feature_names,
                         checkpoint=_comparison_checkpoint(Path(args.out), names, about))
    if not comparison.records:
        print("interrupted (Ctrl-C) before any explainer was measured: nothing written")
        return 130
    from srnet.cgp.driver import FinishOnInterrupt

    with FinishOnInterrupt("interrupted: writing the comparison measured (Ctrl-C again quits at once)") as finishing:
        # (a Ctrl-C from here to the files lost every explainer measured)
        print(comparison.table(written_to="compare.json"))
        if replacing:
            print(f"note: {args.out} held a comparison; it is replaced")
        written = write_comparison(comparison, network, args.out, feature_names=workload.feature_names,
                                   extra=about)
        print(f"wrote {', '.join(str(p) for p in written)}")
    if finishing.requested and not comparison.interrupted:
        print("interrupted (Ctrl-C) while writing: every explainer was measured, and written")
        return 130
    if comparison.interrupted:
        measured = list(dict.fromkeys(r["explainer"] for r in comparison.records))
        print(f"interrupted (Ctrl-C): only {', '.join(measured)} measured (the last one with its best so far)")
        return 130
    return 0


def _comparison_checkpoint(out: Path, names: list[str], extra: dict):
    """What :func:`srnet.compare.compare` calls after each explainer: compare.json with the records so far and
    ``"unfinished"``, the explainers not measured yet (a comparison killed while LIME ran lost SRNet's
    measured result with it); the finished comparison replaces it."""
    from srnet.compare import comparison_document
    from srnet.jsonio import atomic_write_text, dumps

    def checkpoint(comparison):
        measured = {r["explainer"] for r in comparison.records}
        unfinished = [n for n in names if n not in measured]
        atomic_write_text(out / "compare.json", dumps(
            comparison_document(comparison, unfinished=unfinished, extra=extra), indent=2))

    return checkpoint


def _summary_is_stale(out: Path) -> bool:
    """Whether ``out`` holds a summary.md older than a result file (a run that ran nothing said it predated it)."""
    summary = out / "summary.md"
    if not summary.exists():
        return False
    written = summary.stat().st_mtime
    return any(path.stat().st_mtime > written for path in (out / "results").glob("*.json"))


def _bench(args) -> int:
    from srnet.bench.runner import run_suite
    from srnet.bench.suites import BatchSettings, parse_names, parse_seeds, parse_widths, resolve_suite

    settings = BatchSettings(seconds=None if args.generations else args.seconds, generations=args.generations,
                             explainers=parse_names(args.explainers, "explainers", allow_empty=True),
                             hidden=parse_widths(args.hidden), activation=args.activation, epochs=args.epochs,
                             early_stopping=args.early_stopping, max_rows=args.max_rows, n_points=args.points)
    suite = resolve_suite(args.suite, seeds=parse_seeds(args.seeds or ["0"]),
                          methods=parse_names(args.methods, "methods"),
                          settings=settings, pmlb_cache=args.pmlb_cache, gecco_dir=args.gecco_dir,
                          limit=args.limit, download=args.download, task=args.task)
    for note in suite.notes:
        print(note)
    with _terminate_as_interrupt() as terminated:
        outcome = run_suite(suite, args.out, retry_failed=args.retry_failed, workers=args.workers,
                            scheduler=args.scheduler, progress=not args.quiet, run_info={"argv": sys.argv[1:]})
    # (a summary.md of an earlier report is not rewritten by bench: it read "1 results" after 3 were in)
    stale = " (summary.md there predates these results)" if _summary_is_stale(Path(args.out)) else ""
    print(f"{outcome.describe()}; results in {Path(args.out) / 'results'}; summarise with: srnet report "
          f"{args.out}{stale}")
    if terminated:
        print("stopped by SIGTERM (a job scheduler's stop, `timeout`, `kill`): the results written are kept; the "
              "same command finishes the rest")
        return 143
    if outcome.interrupted:
        return 130
    if outcome.unfinished:  # jobs lost to the cluster: the batch did not finish
        return 3
    # a batch whose every job failed (--hidden 100000000) exited 0, as if it had succeeded
    return 1 if outcome.failed or outcome.plan.failed_kept else 0


#: A second SIGTERM or SIGINT this soon after the first is the same stop delivered twice (``timeout`` signals its
#: child, then its own process group): ignored, where it cut the batch's clean-up short (exit 130, the run left
#: open, a Dask traceback).  A Ctrl-C pressed later stops the clean-up, as Python's own handler would.
DUPLICATE_SIGNAL_SECONDS = 2.0


@contextlib.contextmanager
def _terminate_as_interrupt():
    """A SIGTERM (SLURM's scancel, ``timeout``, ``kill``) stops a batch as Ctrl-C does: the batch closed its run
    and stopped its workers on Ctrl-C, but a SIGTERM ended the process where it stood, without a word (the run
    left open, the workers' semaphores leaked).  Either signal delivered twice at once stops it once
    (:data:`DUPLICATE_SIGNAL_SECONDS`).  Yields a list that holds True once a SIGTERM came."""
    import logging
    import signal
    import threading

    terminated: list[bool] = []
    if threading.current_thread() is not threading.main_thread():  # (signal handlers live on the main thread)
        yield terminated
        return
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    first: list[float] = []  # when the first stop came

    def stop(signum, frame):
        if first and time.monotonic() - first[0] < DUPLICATE_SIGNAL_SECONDS:
            return  # the same stop, delivered twice: the batch is already stopping
        first[:] = [time.monotonic()]
        if signum == signal.SIGTERM:
            terminated.append(True)
        # `timeout` and a job scheduler signal the whole process group: the workers are gone at once, and Dask's
        # scheduler logged an ERROR for each while the batch stopped them, which it does anyway
        dask_log.setLevel(logging.CRITICAL)
        raise KeyboardInterrupt

    # (SIGINT only where Python's own handler has it: a batch started in the background of a script ignores it)
    ours = [signal.SIGTERM] + [signal.SIGINT] * (signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    previous = {number: signal.signal(number, stop) for number in ours}
    try:
        yield terminated
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        dask_log.setLevel(level)


def _report(args) -> int:
    from srnet.bench.report import write_report
    from srnet.data import counted

    if not str(args.dir).strip():  # Path("") is the current folder: a report of it was written there
        raise ValueError("give the --out folder of srnet bench; got an empty name")
    report = write_report(args.dir, plots=not args.no_plots)
    for path, why in report.corrupt:
        print(f"result file {path.name} not counted: {why}")
    for line in report.headline:
        print(line)
    # (every row, the files not counted included, read "7 jobs" beside 6 counted)
    jobs = sum(row.get("status") != "not counted" for row in report.rows)
    aside = f", {counted(len(report.corrupt), 'result file')} not counted" if report.corrupt else ""
    print(f"{jobs} job{'s' * (jobs != 1)} counted{aside}; wrote {', '.join(p.name for p in report.written)} in "
          f"{args.dir}")
    return 0


def _target(text: str):
    """--target: an integer (negative counts from the end) is a column index,
    'last' the last column, anything else a column name."""
    text = text.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    return int(text) if digits.isascii() and digits.isdigit() else text


def _add_loading_options(parser) -> None:
    parser.add_argument("model", help="TorchScript file, state_dict file (with --arch), or reference folder")
    parser.add_argument("--data", help="a .csv, .tsv or .txt file (each optionally .gz), .npy, .npz, or a PMLB "
                                       "dataset name")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--arch", help="architecture of a state_dict, e.g. mlp:3-4-4-1:sigmoid (a classifier: "
                                       "mlp:4-16-3:tanh:softmax; a binary one of one output, its logit: "
                                       "mlp:6-8-1:tanh:logit; mlp:sigmoid takes the widths from the weights)")
    parser.add_argument("--target", type=_target,
                        help="target column to drop from the data: an integer is a 0-based index (negative counts "
                             "from the end; an index even where a column is named like a number), 'last' the last "
                             "column, anything else a column name")
    parser.add_argument("--layers", nargs="+", help="module names to explain, read in the order forward runs them "
                                                    "(default: hidden blocks + output)")
    parser.add_argument("--pmlb-cache", help="folder of PMLB tables (default: $SRNET_PMLB_CACHE, else "
                                             "~/.cache/srnet/pmlb)")
    parser.add_argument("--download", action="store_true", help="--data NAME: fetch a PMLB table missing from the "
                                                                "cache folder into it (nothing is downloaded "
                                                                "without it)")


class _GivenSeconds(argparse.Action):
    """--seconds, remembered as given (``args.seconds_given``): beside --generations, which replaces it, it was
    ignored without a word."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.seconds = values
        namespace.seconds_given = True


def _add_search_options(parser, seconds: float) -> None:
    parser.add_argument("--preset", default="default", choices=["default", "paper"],
                        help="search settings (default: srnet's; 'paper': the SRNet paper's, but for its 5000 "
                             "generations: the budget is --seconds, or --generations N)")
    parser.add_argument("--seconds", type=float, default=seconds, action=_GivenSeconds,
                        help=f"time budget: 3/4 searching, the rest composing and refining (default: {seconds:g})")
    parser.add_argument("--generations", type=int, default=None, help="generation budget instead of seconds")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--domain", default=None,
                        help="where the formula must be faithful: rows, widen:F (the data's box F-fold), "
                             "box:L,H;L,H;... (one low,high pair per input), jitter:S (rows moved by S std) or "
                             "auto (default: widen:1.2 for up to 4 inputs or independent ones, else jitter:0.1)")
    parser.add_argument("--select", default="best", choices=["best", "accurate", "layerwise"],
                        help="which formula of the Pareto front to print: best (default: a faithful formula, "
                             "R2 >= 0.99, as simple as its accuracy allows, else the most accurate of <= 30 nodes "
                             "per output; classifiers: the simplest within 1 point of the best class agreement), "
                             "the most accurate, or SRNet's layer-wise chain")
    parser.add_argument("--complexity", type=int, default=None, metavar="N",
                        help="select the most accurate formula of at most N nodes instead (the simplest, "
                             "with a warning, when none is that small)")
    _add_quiet_option(parser)


def _add_quiet_option(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars (in a log, each redraw is a line)")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line as srnet's own are (argparse printed its usage block, eight
    lines, above "error: argument --seconds: invalid float value: 'abc'"), with where the options are listed."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="srnet", description="Open trained neural networks up into mathematics.")
    parser.add_argument("--version", action="version", version=f"srnet {__import__('srnet').__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="train a small network on a built-in benchmark and explain it")
    _add_search_options(demo, seconds=15.0)
    demo.add_argument("--out", default="srnet-demo", help="output folder (default: ./srnet-demo)")
    demo.set_defaults(run=_demo)

    explain = commands.add_parser("explain", help="explain a trained network layer by layer")
    _add_loading_options(explain)
    _add_search_options(explain, seconds=30.0)
    explain.add_argument("--classes", help="a classifier's class label of each output, in order, joined by ',' "
                                           "(default: the target's labels sorted; a network trained with 1 = "
                                           "benign reads benign,malignant swapped: give --classes malignant,benign)")
    explain.add_argument("--test-size", type=float, default=0.0,
                         help="fraction of the data rows held out to measure the formula on (class agreement "
                              "or R2 on unseen rows; default: 0, or the reference folder's test rows)")
    explain.set_defaults(run=_explain)

    comparing = commands.add_parser("compare", help="measure SRNet, LIME, MAPLE, ... against the network")
    _add_loading_options(comparing)
    comparing.add_argument("--explainers", default="srnet,lime,maple,cgp_direct",
                           help="comma-separated (default: srnet,lime,maple,cgp_direct; also xnet, gplearn, pyoperon)")
    comparing.add_argument("--seconds", type=float, default=10.0,
                           help="budget of each formula search (default: 10); srnet then composes and simplifies "
                                "its formulas with sympy, a few seconds more; LIME and MAPLE are not bound by it "
                                "(LIME fits a local model per evaluation point: a minute or more at 1000 points)")
    comparing.add_argument("--points", type=int, default=1000, help="evaluation points per box (default: 1000)")
    comparing.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    _add_quiet_option(comparing)
    comparing.set_defaults(run=_compare)

    bench = commands.add_parser("bench", help="run the pipeline over a suite of datasets on Dask (resumable)")
    bench.add_argument("suite", help="pmlb-classification, pmlb-regression, pmlb:NAME,..., nguyen[:NAME,...] "
                                     "or srnet-gecco[:NAME,...]")
    bench.add_argument("--out", required=True, help="result folder (re-running resumes it)")
    bench.add_argument("--seeds", nargs="+", action="extend", default=None,
                       help="seeds, e.g. 0 1 2, 0,1,2 or 0-4 (default: 0; given twice, both count)")
    bench.add_argument("--methods", default="srnet", help="srnet and/or srnet-paper, comma-separated "
                                                          "(default: srnet)")
    bench.add_argument("--explainers", default="", help="extra explainers per job: lime,maple,cgp_direct,gplearn,"
                                                         "pyoperon,xnet (default: none)")
    bench.add_argument("--seconds", type=float, default=10.0, action=_GivenSeconds,
                       help="budget of each formula search (default: 10); srnet then composes and simplifies its "
                            "formulas with sympy, a few seconds more, and a job also trains its network and runs the "
                            "other explainers (LIME, a local fit per evaluation point, took 12 s of a job of "
                            "--seconds 2 on a 37-row table): not a job's wall time")
    bench.add_argument("--generations", type=int, default=None, help="generation budget instead of seconds")
    where = bench.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="local Dask workers (default: one per core)")
    where.add_argument("--scheduler", help="run on an existing Dask cluster, e.g. tcp://HOST:8786")
    bench.add_argument("--pmlb-cache", help="folder of PMLB tables (default: $SRNET_PMLB_CACHE, else "
                                            "~/.cache/srnet/pmlb)")
    bench.add_argument("--download", action="store_true", help="pmlb:NAME suites: fetch missing tables into the "
                                                               "cache first")
    bench.add_argument("--gecco-dir", help="the SRNet paper's reference networks (default: $SRNET_GECCO_DIR)")
    bench.add_argument("--task", choices=("classification", "regression"),
                       help="pmlb:NAME suites: run the tables as this task (default: PMLB's lists, else a guess "
                            "from the labels, printed)")
    bench.add_argument("--limit", type=int, default=None, help="only the suite's first K datasets")
    bench.add_argument("--retry-failed", action="store_true", help="redo jobs whose recorded result is a failure")
    bench.add_argument("--hidden", default="32,32",
                       help="hidden widths of the networks the bench trains (default: 32,32; the srnet-gecco "
                            "reference networks are explained as they are, untrained)")
    bench.add_argument("--activation", default="sigmoid",
                       help="hidden activation of the networks the bench trains (default: sigmoid)")
    bench.add_argument("--epochs", type=int, default=None, help="training epochs (default: about 2000 steps)")
    bench.add_argument("--early-stopping", type=float, default=0.2, metavar="F",
                       help="share of a network's training rows held out to stop its training early, keeping its "
                            "best weights (default: 0.2; 0: train on every row for all the epochs)")
    bench.add_argument("--max-rows", type=int, default=5000,
                       help="training rows at most, Nguyen's 200 points too: a larger table is first cut to as many "
                            "rows as that many training rows and their share of test rows need, so its test rows "
                            "shrink with it (default: 5000)")
    bench.add_argument("--points", type=int, default=1000, help="evaluation points per domain (default: 1000)")
    _add_quiet_option(bench)
    bench.set_defaults(run=_bench)

    reporting = commands.add_parser("report", help="summarise a bench folder: summary.csv, summary.md, plots")
    reporting.add_argument("dir", help="the --out folder of srnet bench")
    reporting.add_argument("--no-plots", action="store_true", help="tables only")
    reporting.set_defaults(run=_report)
    return parser


#: Every budget and size option of every subcommand, checked by srnet.data.check_budget before anything runs.
_BUDGET_OPTIONS = {"seconds": {}, "generations": dict(allow_none=True, integer=True), "points": dict(integer=True),
                   "limit": dict(allow_none=True, integer=True), "workers": dict(allow_none=True, integer=True),
                   "epochs": dict(allow_none=True, integer=True), "max_rows": dict(integer=True, minimum="MIN_ROWS"),
                   "test_size": dict(positive=False), "complexity": dict(allow_none=True, integer=True),
                   "seed": dict(positive=False, integer=True)}


def _check_output_folder(args) -> None:
    """The --out folder of explain, demo, compare and bench, checked before the search (a path that cannot become
    a folder was refused only when the report was written, losing the result, or by a FileExistsError traceback
    in bench); nothing is created yet."""
    import os
    import tempfile

    if args.command not in ("explain", "demo", "compare", "bench"):
        return
    if not str(args.out).strip():  # Path("") is the current folder: the report landed among the user's files
        raise ValueError("--out must name a folder; got an empty name")
    path = Path(args.out).absolute()
    existing = next(p for p in (path, *path.parents) if p.exists() or p.is_symlink())
    if not existing.exists():  # a link to nothing: mkdir would fail only after the search
        raise ValueError(f"--out '{args.out}' cannot be the output folder: '{existing}' is a broken link")
    if not existing.is_dir():
        raise ValueError(f"--out '{args.out}' cannot be the output folder: '{existing}' is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"--out '{args.out}' cannot be the output folder: '{existing}' is not writable")
    try:  # os.access says yes to root where a folder still cannot be made (/proc): try one, and take it away
        os.rmdir(tempfile.mkdtemp(prefix=".srnet-", dir=existing))
    except OSError as error:
        raise ValueError(f"--out '{args.out}' cannot be the output folder: no folder can be made in '{existing}' "
                         f"({error.strerror or error})") from None
    if args.command in ("explain", "demo", "compare"):  # (bench: its store guards its folder)
        _check_files_replaced(args, path)


def _written_files(command: str) -> tuple[tuple[str, ...], set[str]]:
    """The files ``command`` writes in --out, its JSON document first, and the keys that mark that document as
    srnet's."""
    if command == "compare":
        from srnet.compare import COMPARISON_PLOTS  # (torch and the explainers: seconds, for compare alone)

        return ("compare.json", "compare.csv", *COMPARISON_PLOTS), {"task", "records"}
    return ("report.json", *EXPLANATION_PLOTS), {"expression", "formula_source", "layers"}


def _check_files_replaced(args, folder: Path) -> None:
    """srnet replaces in --out only the files it wrote there: a user's own report.json or compare.json was
    overwritten (the note said the folder "held an explanation"), and compare's data read from
    --out/compare.csv was replaced by the results table."""
    names, keys = _written_files(args.command)
    for option in ("model", "data"):
        given = getattr(args, option, None)
        # (the folder resolved, not the file: a link named compare.csv in --out is written through)
        if given and Path(given).absolute().parent.resolve() == folder.resolve() and Path(given).name in names:
            raise ValueError(f"--{option} '{given}' is a file srnet {args.command} writes in --out '{args.out}'; "
                             f"choose another folder")
    document = folder / names[0]
    if document.is_file() and not _is_srnet_document(document, keys):
        raise ValueError(f"--out '{args.out}' holds a {names[0]} that srnet did not write: srnet replaces only its "
                         f"own; choose another folder, or move that file")
    if not document.exists():
        theirs = [name for name in names[1:] if (folder / name).exists()]
        if theirs:
            raise ValueError(f"--out '{args.out}' holds {', '.join(theirs)} with no srnet {names[0]} beside it: "
                             f"srnet replaces only its own files; choose another folder, or move those")


def _is_srnet_document(path: Path, keys: set[str]) -> bool:
    """Whether ``path`` reads as a JSON object with ``keys`` (a report or comparison srnet wrote)."""
    from srnet.jsonio import parse_json

    try:  # (parse_json: a document nested past Python's stack is a ValueError too, not json's RecursionError)
        document = parse_json(path.read_text(), path.name)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(document, dict) and keys <= document.keys()


def _check_budgets(args) -> None:
    from srnet.data import MIN_ROWS, check_budget

    # compare refused 1 only after loading the network, naming n_points; 0 was '> 0', 1 '>= 2': one rule
    if getattr(args, "points", 2) < 2:
        raise ValueError(f"--points must be >= 2 (an R^2 needs two points), got {args.points}")
    for key, rules in _BUDGET_OPTIONS.items():
        if hasattr(args, key):
            rules = {k: MIN_ROWS if v == "MIN_ROWS" else v for k, v in rules.items()}
            check_budget("--" + key.replace("_", "-"), getattr(args, key), **rules)
    if getattr(args, "generations", None) is not None and getattr(args, "seconds_given", False):
        print(f"note: the budget is --generations {args.generations}, which replaces --seconds; --seconds "
              f"{args.seconds:g} is not used")
    if getattr(args, "complexity", None) is not None and getattr(args, "select", "best") != "best":
        print(f"note: --complexity {args.complexity} selects the formula; --select {args.select} is not used")
    if getattr(args, "test_size", 0) >= 1:
        raise ValueError(f"--test-size must be < 1 (a fraction of the rows), got {args.test_size}")
    if isinstance(getattr(args, "domain", None), str):  # parsed here: one line, as every other bad option
        from srnet.domain import parse_domain  # (as an argparse type, its error printed the usage block)

        try:
            args.domain = parse_domain(args.domain)
        except ValueError as error:
            raise ValueError(f"--domain: {error}") from None
        if args.command == "demo" and args.domain.kind == "box" and len(args.domain.box) != 1:
            raise ValueError(f"--domain box has {len(args.domain.box)} (low, high) pairs, but the demo's network "
                             f"has 1 input")  # before the network is trained, not after


def _finish(model, args, report: dict) -> int:
    """The time line of an explanation; exit status 130 after Ctrl-C."""
    settings = report["settings"]  # the fit's own
    budget = (f"{settings['max_seconds']:g} s" if settings["max_seconds"] is not None
              else f"{settings['max_generations']} generations")
    choosing = model.select_seconds_ - model.direct_seconds_ - model.refine_seconds_
    print(f"{model.n_generations_} generations; budget {budget}: search {model.search_seconds_:.1f} s layer-wise + "
          f"{model.direct_seconds_:.1f} s direct + refine {model.refine_seconds_:.1f} s; then compose "
          f"{model.compose_seconds_:.1f} s and select {choosing:.1f} s (sympy's simplification, up to "
          f"{model.simplify_seconds_:g} s, included); besides: compile {model.compile_seconds_:.1f} s, set-up "
          f"{model.setup_seconds_:.1f} s, report and plots {report['report_seconds']:.1f} s; "
          f"whole command {report['command_seconds']:.1f} s")
    if report["interrupted"]:
        print(f"interrupted (Ctrl-C): {args.out} holds the best explanation found before it")
        return 130
    return 0


class _ReaderMayLeave:
    """Standard output that outlives its reader: ``srnet explain ... | head`` closed the pipe, the next print
    raised BrokenPipeError, and the command stopped with an error before it wrote report.json.  Once the
    reader is gone, what is printed is dropped and the command carries on with its files."""

    def __init__(self, stream):
        self._stream, self.gone = stream, False

    def write(self, text):
        if not self.gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._leave()
        return len(text)

    def flush(self):
        if not self.gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._leave()

    def _leave(self):
        self.gone = True
        import os

        # the stream's own buffer still holds text for the closed pipe: point its descriptor at devnull, so
        # that Python's flush at exit does not fail as well
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name):  # isatty, fileno, encoding, ...: the stream's own
        return getattr(self._stream, name)


def _warning_line(command: str):
    """A warning as one line, ``srnet COMMAND: warning: ...``: Python's own display added the file, line and
    source line of the library code that warned, which mean nothing to a user of the command line.  Written
    through tqdm, which lifts a live progress bar off its line and redraws it below (printed, the warning was
    appended to the bar's line and the next redraw overwrote it)."""
    from tqdm import tqdm

    def show(message, category, filename, lineno, file=None, line=None):
        tqdm.write(f"srnet {command}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    return show


def main(argv=None) -> int:
    _STARTED[0] = time.perf_counter()
    args = build_parser().parse_args(argv)
    stdout = sys.stdout
    sys.stdout = _ReaderMayLeave(stdout)
    try:
        with warnings.catch_warnings():  # (restores the display after the command)
            warnings.showwarning = _warning_line(args.command)
            # (the explanation prints its own line for a loose formula, with what the front offers instead)
            warnings.filterwarnings("ignore", message=LOOSE_WARNING)
            _check_budgets(args)
            _check_output_folder(args)
            code = args.run(args)
        sys.stdout.flush()
        return code
    except (ValueError, OSError) as error:  # bad input, a file that cannot be read or written: one line
        print(f"srnet {args.command}: error: {error}", file=sys.stderr)
        return 2
    except MemoryError as error:  # numpy's names the size asked for (--points 99999999999999: 728 TiB)
        print(f"srnet {args.command}: error: out of memory ({error or 'no detail'}); ask for fewer points, rows or "
              f"units", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, SystemError) as error:  # a second Ctrl-C (the first one stops the search)
        if isinstance(error, SystemError):  # numba's wrapping of a Ctrl-C, or a real error
            from srnet.cgp.driver import is_interrupt  # (loaded: numba raised it)

            if not is_interrupt(error):
                raise
        print(f"srnet {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
