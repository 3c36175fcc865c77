"""Tests for the surviving mutants of stop 66's changes (mutmut 3 names, ``x_<function>__mutmut_<n>``).

Run: mutmut 3.8.1 (``[tool.mutmut]`` only_mutate srnet/expr/symbolic.py, loading.py, extract.py, formulas.py;
tests tests/test_review_stop66.py, test_loading_mutants.py, test_cli_target.py; ``--max-children 1``) over
shared_parts, _without_number, _named, _continuous, _rescaled_r2, fit_warning, network_fit, closer_formula,
_warn_if_loose, SRNet.score, Candidate.shared, _note_lead, _value_text: 615 mutants.  mutmut itself ran 189 of
them (a one-core time box); the rest, and its survivors, were run in-process on mutants/ (MUTANT_UNDER_TEST set
per mutant) against the direct tests of each function (test_review_stop66's, test_formulas' note tests,
test_any_model's loose-warning test) and then against this file.

Equivalent survivors (nothing a caller sees changes):
- score_2, _4: check_is_fitted(self) without "programs_" (or with None) raises the same NotFittedError before fit.
- score_36, _rescaled_r2_18, fit_warning_6: reshape(..., -2) (numpy 2.4 reads any negative size as "the rest");
  fit_warning_3: reshape(None) keeps y's shape, and _continuous reads any shape.
- _rescaled_r2_11: astype(None) is float64; _rescaled_r2_31: lstsq's rcond defaults to None in numpy 2.
- _note_lead_1, _value_text_1: the default of of_tan (every call site passes it).
- _value_text_3, _9, _11, _12: more program steps kept than the value reads (its output is the value alone).
- shared_parts_36, _38, _40: max over (saving, text, part) or its whole tuple: a part's text is unique, so the
  part never decides; shared_parts_50: taken.add(None) (each round's name u<k> differs from every earlier one).
- _without_number_1: 'is_Atom and not is_Add' (a non-sum's as_coeff_Add has the number 0, so None either way).
- _warn_if_loose_56, _59: warnings.warn's category None or left out is UserWarning.
- fit_warning_108: 'rescaled - r2 >= 0.1' differs only where the difference is exactly the float 0.1;
  fit_warning_24, _27, _39, _42: reshape(None) or (-2) of y (np.unique and the checks read any shape);
  fit_warning_55, _72: '"iuf"' as '"XXiufXX"' (a dtype kind is one letter, never X).
fit_warning's older branches' survivors (binary classifier, accuracy) are killed by
tests/test_budgets.py::test_a_classifier_loaded_without_softmax_and_a_poor_fit_are_warned_of (46 of them).
Left alive: _value_text_54 (a note of exactly 80 characters), fit_warning_52 (one output, R2 None), and
network_fit's 80 survivors of the in-process subset (its lines stop 66 did not change; not triaged in the box).
"""

import os

import numpy as np
import pytest
import torch


def _front(*figures, classification=False):
    """A pareto_ of pole-free entries of 10, 20, ... nodes with these domain figures."""
    key = "agreement" if classification else "r2"
    return [{"complexity": 10 * (i + 1), "singularities": [], "figures": {"domain": {key: figure}}}
            for i, figure in enumerate(figures)]


def test_the_closer_formula_is_the_most_faithful_of_the_front_not_its_first():
    """Kills x_closer_formula__mutmut_24 (every entry's key None: max keeps the first), _25 (max by the entry
    dict: a TypeError on two entries), _21 and _23 (max over (figure, entry) pairs: a tie on the figure compares
    dicts, a TypeError): a loose selected formula is offered the front's most faithful pole-free one."""
    from srnet.extract import closer_formula

    assert closer_formula(_front(0.92, 0.99, 0.95), classification=False) == (20, 0.99)
    # two equally faithful: the first (the shorter) is offered
    assert closer_formula(_front(0.95, 0.97, 0.97), classification=False) == (20, 0.97)


def test_the_closer_formula_skips_loose_and_unmeasured_entries_and_takes_one_at_the_threshold():
    """Kills x_closer_formula__mutmut_15 ('figure is not None or figure >= LOOSE_BELOW': loose entries offered, an
    entry without a domain figure a TypeError) and _17 ('>': a formula exactly at LOOSE_BELOW is not loose, as
    _warn_if_loose reads it, yet was not offered)."""
    from srnet.extract import closer_formula
    from srnet.metrics import LOOSE_BELOW

    assert closer_formula(_front(0.5, 0.8), classification=False) is None
    unmeasured = [{"complexity": 5, "singularities": [], "figures": {}}] + _front(0.3)
    assert closer_formula(unmeasured, classification=False) is None
    assert closer_formula(_front(0.2, LOOSE_BELOW), classification=False) == (20, LOOSE_BELOW)


def test_a_classifier_s_closer_formula_is_read_by_its_class_agreement():
    """Kills x_closer_formula__mutmut_3 (loose_figure(..., None): a classifier's front read by R2, which it does
    not have, so no closer formula was ever offered beside a loose classifier's)."""
    from srnet.extract import closer_formula

    assert closer_formula(_front(0.7, 0.96, classification=True), classification=True) == (20, 0.96)


def test_the_rescaled_r2_maps_each_output_column_of_a_two_output_network():
    """Kills x__rescaled_r2__mutmut_17 (the target reshaped to one column: a two-output network's target raised
    a ValueError in fit_warning): each column gets its own affine map."""
    from srnet.loading import Workload, _rescaled_r2
    from srnet.metrics import rmse_r2

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    X = np.random.default_rng(0).normal(size=(100, 2))
    with torch.no_grad():
        output = net(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    y = np.c_[10.0 + 3.0 * output[:, 0], -2.0 - 0.5 * output[:, 1] + 0.01 * np.random.default_rng(1).normal(size=100)]
    workload = Workload("w", net, X, ["a", "b"], y=y)
    expected = np.empty_like(y)
    for j in range(2):
        design = np.c_[output[:, j], np.ones(100)]
        expected[:, j] = design @ np.linalg.lstsq(design, y[:, j], rcond=None)[0]
    assert _rescaled_r2(workload) == pytest.approx(rmse_r2(y, expected)[1], abs=1e-6)
    assert _rescaled_r2(workload) > 0.99


def test_a_classifier_less_accurate_than_the_commonest_label_is_warned():
    """Kills x_fit_warning__mutmut_15 (the network's accuracy read as None: a classifier scoring below always
    answering the commonest label, labels read in another order than its outputs, went without a word)."""
    from srnet.loading import Workload, fit_warning

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softmax(dim=1))
    y = np.array([0.0] * 7 + [1.0] * 3)
    workload = Workload("w", net, np.zeros((10, 2)), ["a", "b"], is_classifier=True, y=y)
    assert fit_warning(workload, {"network_accuracy": 0.3}) == (
        "the network's accuracy against the labels is 0.3, below the 0.7 of always answering the commonest label: "
        "are its outputs in the labels' sorted order (0, 1; else give --classes), is --target the label column?")
    # (loaded without --arch, a TorchScript file: not asked whether its --arch is right)
    assert fit_warning(workload, {"network_accuracy": 0.7}) is None


@pytest.mark.filterwarnings("ignore:the selected formula follows the network only loosely")
def test_score_reads_the_last_explained_layer_of_a_deeper_network():
    """Kills xǁSRNetǁscore__mutmut_21 (probe(...)[+1]: the second recorded layer, which is the last only for a
    network of two; a network of two hidden layers was scored on its second hidden layer, a width mismatch)."""
    from srnet import SRNet
    from srnet.metrics import rmse_r2

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3), torch.nn.Tanh(),
                              torch.nn.Linear(3, 1))
    X = np.random.default_rng(0).normal(size=(40, 2))
    model = SRNet(max_generations=3, random_state=0, simplify_seconds=0, refine=False, direct_budget=0).fit(net, X)
    assert len(model.layer_names_) == 3
    with torch.no_grad():
        output = net(torch.as_tensor(X, dtype=torch.float32)).double().numpy()[:, 0]
    assert model.score(net, X) == pytest.approx(rmse_r2(output, model.predict(X))[1], abs=1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::sklearn.exceptions.ConvergenceWarning")
def test_score_refuses_a_frame_in_another_order_than_the_scored_model_s():
    """Kills xǁSRNetǁscore__mutmut_9 and _10 (input_names given None for X or for the model: a scikit-learn model
    fitted on another column order than the frame scored was fed it scrambled, without a word)."""
    import pandas as pd
    from sklearn.neural_network import MLPRegressor

    from srnet import SRNet

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    y = X["a"] - 0.5 * X["b"]
    net = MLPRegressor(hidden_layer_sizes=(3,), max_iter=30, random_state=0).fit(X, y)
    model = SRNet(max_generations=3, random_state=0, simplify_seconds=0, refine=False, direct_budget=0)
    model.fit(net, X)
    other = MLPRegressor(hidden_layer_sizes=(3,), max_iter=30, random_state=0).fit(X[["b", "a"]], y)
    with pytest.raises(ValueError, match=r"pass X\[model.feature_names_in_\]"):
        model.score(other, X)


def test_a_two_class_candidate_names_the_parts_its_decision_repeats():
    """Kills xǁCandidateǁshared__mutmut_2 (the decision read as absent: a two-class classifier's shared text was
    its two logits', where the person reads the decision d alone)."""
    from srnet.expr.program import Program
    from srnet.expr.symbolic import make_symbols
    from srnet.formulas import Formula, candidate

    program = Program(2, (), (("mul", 0, 1), ("sin", 0, 0), ("add", 2, 3), ("sin", 4, 4), ("cos", 4, 4),
                              ("add", 5, 6)), (7,), [[-1.0, 1.0]], [0.5, -0.5])
    formula = Formula("direct-6", (program,))
    X = np.random.default_rng(0).uniform(-1, 1, (100, 2))
    made = candidate(formula, make_symbols(2), {"domain": (X, formula(X))}, X, classification=True,
                     simplify_seconds=0)
    assert made.shared() == {"expression": None, "decision": "2*sin(u1) + 2*cos(u1) - 1",
                             "parts": {"u1": "sin(x0) + x0*x1"}}


def test_a_part_of_exactly_the_fewest_nodes_is_named_and_one_node_fewer_is_not():
    """Kills shared_parts mutants of the SHARED_MIN_NODES bound ('>' for '>='): a 6-node part repeated is named,
    a 5-node one is left spelt out."""
    import sympy

    from srnet.expr.symbolic import SHARED_MIN_NODES, complexity, make_symbols, shared_parts

    x0, x1, x2 = make_symbols(3)
    six, five = sympy.sin(x0 + x1 * x2), x0 + x1 * x2
    assert complexity(six) == SHARED_MIN_NODES and complexity(five) == SHARED_MIN_NODES - 1
    assert shared_parts([sympy.exp(six) + sympy.cos(six)]) == (
        [sympy.exp(sympy.Symbol("u1", real=True)) + sympy.cos(sympy.Symbol("u1", real=True))],
        [(sympy.Symbol("u1", real=True), six)])
    plain = sympy.exp(five) + sympy.cos(five)
    assert shared_parts([plain]) == ([plain], [])


def test_a_name_already_taken_by_an_unprinted_input_is_not_reused():
    """Kills shared_parts mutants that drop ``taken`` (the inputs' names, printed or not: Candidate.shared passes
    its domain points' names): a part named u1 beside an input u1 would read as that input."""
    import sympy

    from srnet.expr.symbolic import make_symbols, shared_parts

    x0, x1, x2 = make_symbols(3)
    six = sympy.sin(x0 + x1 * x2)
    (written,), named = shared_parts([sympy.exp(six) + sympy.cos(six)], taken=["u1", "u2"])
    assert [str(name) for name, _ in named] == ["u1_"] and str(written) == "exp(u1_) + cos(u1_)"


def test_the_part_that_saves_the_most_nodes_is_named_first():
    """Kills shared_parts mutants of the saving (complexity * (count - 1)): a 6-node part written three times
    saves 12 nodes, a 10-node part written twice 10, so the first is u1."""
    import sympy

    from srnet.expr.symbolic import make_symbols, shared_parts

    x0, x1, x2 = make_symbols(3)
    often = sympy.sin(x0 * x1 + x2)
    big = sympy.cos(x0 + sympy.exp(x1) + sympy.log(x2) + x0 * x2)
    f = sympy.tanh(often) + sympy.exp(often) + sympy.sinh(often) + sympy.atan(big) + sympy.sqrt(big)
    (written,), named = shared_parts([f])
    assert [(str(name), part) for name, part in named] == [("u1", often), ("u2", big)]
    assert str(written) == "sqrt(u2) + exp(u1) + sinh(u1) + tanh(u1) + atan(u2)"


def test_a_formula_of_exactly_the_most_nodes_is_still_rewritten():
    """Kills shared_parts mutants of the SHARED_MAX_NODES bound ('>=' for '>'): a formula of exactly that many
    nodes has its parts named; one node more is left as it is."""
    import sympy

    import srnet.expr.symbolic as symbolic
    from srnet.expr.symbolic import complexity, make_symbols, shared_parts

    x0, x1, x2 = make_symbols(3)
    six = sympy.sin(x0 + x1 * x2)
    f = sympy.exp(six) + sympy.cos(six)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(symbolic, "SHARED_MAX_NODES", complexity(f))
        assert [str(name) for name, _ in shared_parts([f])[1]] == ["u1"]
        patch.setattr(symbolic, "SHARED_MAX_NODES", complexity(f) - 1)
        assert shared_parts([f]) == ([f], [])


def test_parts_of_equal_saving_are_named_in_the_order_of_their_text():
    """Kills x_shared_parts__mutmut_26 (the text tie-break str(part) replaced by str(None): equal savings named in
    the order the traversal met them, so the same formula's names hung on how sympy ordered its terms)."""
    import sympy

    from srnet.expr.symbolic import make_symbols, shared_parts

    x0, x1, x2 = make_symbols(3)
    sine, cosine = sympy.sin(x0 * x1 + x2), sympy.cos(x0 + x1 * x2)  # 6 nodes each, twice each
    g = sympy.sqrt(cosine) + sympy.asinh(cosine) + sympy.exp(sine) + sympy.tanh(sine)
    assert [part for part in sympy.preorder_traversal(g) if part in (sine, cosine)][0] == cosine  # met first
    assert [(str(name), part) for name, part in shared_parts([g])[1]] == [("u1", sine), ("u2", cosine)]


def test_a_named_part_reads_a_later_name_for_the_part_inside_it():
    """Kills x_shared_parts__mutmut_68 (an earlier part rewritten with the symbol None): u1's own text writes the
    smaller part named after it as u2, and the names put back give the formula."""
    import sympy

    from srnet.expr.symbolic import make_symbols, shared_parts

    x0, x1, x2 = make_symbols(3)
    inner = sympy.cos(x0 + x1 * x2)
    big = sympy.exp(inner + x1 * x2 * x0 + sympy.sin(x1) + sympy.log(x2))
    f = sympy.tanh(big) + sympy.sinh(big) + sympy.atan(big) + sympy.sqrt(inner) + sympy.asinh(inner)
    (written,), named = shared_parts([f])
    assert [(str(name), str(part)) for name, part in named] == [("u1", "x2*exp(u2 + x0*x1*x2 + sin(x1))"),
                                                                ("u2", "cos(x0 + x1*x2)")]
    for name, part in named:  # (u1 reads u2: u1 put back first)
        written = written.xreplace({name: part})
    assert written == f


def test_a_sum_beside_an_intercept_of_one_counts_as_recurring():
    """Kills x__without_number__mutmut_8 ('number != 1': a linear form beside the intercept 1 was not split from
    it, so L + 1 and L - 0.2 were not one part)."""
    import sympy

    from srnet.expr.symbolic import make_symbols, shared_parts

    x0, x1, x2 = make_symbols(3)
    bare = 0.5 * x0 - 1.2 * x1 + 3.1 * x2
    (written,), named = shared_parts([sympy.sin(bare + 1) * sympy.cos(bare - 0.2)])
    assert named == [(sympy.Symbol("u1", real=True), bare)] and str(written) == "sin(u1 + 1)*cos(u1 - 0.2)"


def test_a_regression_s_part_repeated_across_its_outputs_is_named():
    """Kills xǁCandidateǁshared__mutmut_10 (every candidate read as a two-class decision, the last expression
    alone: a part written once in each of two outputs was never named)."""
    from srnet.expr.program import Program
    from srnet.expr.symbolic import make_symbols
    from srnet.formulas import Formula, candidate

    program = Program(2, (), (("mul", 0, 1), ("sin", 0, 0), ("add", 2, 3), ("sin", 4, 4), ("cos", 4, 4)),
                      (5, 6), [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0])
    formula = Formula("direct-5", (program,))
    X = np.random.default_rng(0).uniform(-1, 1, (100, 2))
    made = candidate(formula, make_symbols(2), {"domain": (X, formula(X))}, X, classification=False,
                     simplify_seconds=0)
    assert made.shared() == {"expression": ["sin(u1)", "cos(u1)"], "decision": None,
                             "parts": {"u1": "sin(x0) + x0*x1"}}


def test_a_candidate_does_not_name_a_part_after_an_input_its_formula_does_not_read():
    """Kills xǁCandidateǁshared__mutmut_8 and _13 (the domain points' names not passed as taken): an input named
    u1 that the formula leaves out is still an input, and a part named u1 would read as it."""
    import sympy

    from srnet.expr.program import Program
    from srnet.expr.symbolic import make_symbols
    from srnet.formulas import Formula, candidate

    program = Program(3, (), (("mul", 0, 1), ("sin", 0, 0), ("add", 3, 4), ("sin", 5, 5), ("cos", 5, 5),
                              ("add", 6, 7)), (8,), [[1.0]], [0.0])
    formula = Formula("direct-6", (program,))
    X = np.random.default_rng(0).uniform(-1, 1, (100, 3))
    symbols = [*make_symbols(2), sympy.Symbol("u1", real=True)]
    made = candidate(formula, symbols, {"domain": (X, formula(X))}, X, classification=False, simplify_seconds=0)
    assert "u1" not in made.display()[0]
    assert made.shared() == {"expression": ["sin(u1_) + cos(u1_)"], "decision": None,
                             "parts": {"u1_": "sin(x0) + x0*x1"}}


def _loose_message(figures, classification=False, pareto=(), singular=False):
    import warnings

    from srnet.extract import _warn_if_loose

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _warn_if_loose(figures, classification, list(pareto), singular)
    return [(str(w.message), w.category, w.filename) for w in caught]


def test_the_loose_warning_without_a_pole_or_a_closer_formula_advises_a_longer_search():
    """Kills x__warn_if_loose__mutmut_33 and _36 (a pole mentioned, or 'XXXX' written, for a pole-free formula),
    _45 and _46 (the advice's text) and _60 (no stacklevel: the warning pointed into srnet, not at the caller)."""
    (message, category, filename), = _loose_message({"domain": {"r2": 0.5}, "rows": {"r2": 0.95}})
    assert message == ("the selected formula follows the network only loosely on the domain (R2 0.500000): read it "
                       "as a sketch; pareto_ holds the best formula of each size, and a longer search (max_seconds) "
                       "may do better")
    # attributed to the caller (here this file; under mutmut its trampoline), not to srnet/extract.py
    assert category is UserWarning and os.path.basename(os.path.dirname(filename)) != "srnet"


def test_the_loose_warning_of_a_classifier_reads_agreement_on_its_rows_and_its_front():
    """Kills x__warn_if_loose__mutmut_11 and _21 (a classifier's rows read, or written, as R2) and _39 and _50 (its
    front's closer formula read, or written, as R2): every figure of a classifier's warning is a class agreement."""
    front = _front(0.6, 0.97, classification=True)
    (message, _, _), = _loose_message({"domain": {"agreement": 0.6}, "rows": {"agreement": 0.7}}, True, front)
    assert message == ("the selected formula follows the network only loosely on the domain (class agreement 60.0 %; "
                       "class agreement 70.0 % on the rows): read it as a sketch; pareto_ holds a pole-free one of 20 "
                       "nodes at class agreement 97.0 % on the domain: select=20")


def test_a_figure_exactly_at_the_loose_threshold_is_not_loose():
    """Kills x__warn_if_loose__mutmut_30 ('fit <= LOOSE_BELOW': a domain figure of exactly 0.9 warned) and _26
    ('rows <= LOOSE_BELOW': rows of exactly 0.9 quoted as loose)."""
    from srnet.metrics import LOOSE_BELOW

    assert _loose_message({"domain": {"r2": LOOSE_BELOW}, "rows": {"r2": 0.2}}) == []
    (message, _, _), = _loose_message({"domain": {"r2": 0.5}, "rows": {"r2": LOOSE_BELOW}})
    assert "on the rows" not in message


def test_a_tan_note_whose_phase_reduces_to_a_negated_tan_writes_its_argument():
    """Kills x__value_text__mutmut_42 (the reduced tan's first argument taken even where reduction gave -tan(...):
    the note wrote '-1', the Mul's coefficient, as tan's argument).  Since the review of this file, a reduced
    -tan(x0 - 1.274) gives its argument as printed, x0 - 1.274 (it was left unreduced, 4.416 - x0)."""
    from srnet.expr.program import Program
    from srnet.expr.symbolic import make_symbols
    from srnet.formulas import Formula, singularities

    x0, = make_symbols(1)
    formula = Formula("direct-2", (Program(1, (4.416,), (("sub", 1, 0), ("tan", 2, 2)), (3,), [[1.0]], [0.0]),))
    notes = singularities(formula, np.linspace(-2, 2, 201)[:, None], [x0])
    assert notes == ["the argument of tan, x0 - 1.274, reaches an odd multiple of pi/2 inside the domain"]


def test_a_note_whose_argument_is_too_long_to_read_names_its_step():
    """Kills x__value_text__mutmut_53 (every argument written however long: a note of a hundred characters of
    nested cos): past _ARGUMENT_CHARACTERS the note names the program's step instead."""
    from srnet.expr.program import Program
    from srnet.expr.symbolic import make_symbols
    from srnet.formulas import Formula, singularities

    x0, = make_symbols(1)
    steps = [("sin", 0, 0)]
    for k in range(16):
        steps.append(("add", len(steps), 0) if k % 2 else ("cos", len(steps), 0))
    steps.append(("div", 0, len(steps)))
    formula = Formula("direct-18", (Program(1, (), tuple(steps), (len(steps),), [[1.0]], [0.0]),))
    assert singularities(formula, np.linspace(-2, 2, 200)[:, None], [x0]) == [
        "step 18: the denominator of div crosses 0 inside the domain"]


@pytest.mark.parametrize("r2, rescaled, told, arch", [(-3.0, 0.3, False, True), (-1.0, 0.5, True, True),
                                                      (0.3, 0.9, True, False)])
def test_a_poor_network_is_told_of_a_rescaled_target_only_where_rescaling_makes_it_fit(r2, rescaled, told, arch):
    """Kills x_fit_warning__mutmut_105 ('or': R2 -3 rescaled to 0.3, still poor, was told its target was
    standardised), _106 ('rescaled > POOR_FIT_R2': exactly 0.5 rescaled is a fit) and _109 ('> 1.1': R2 0.3
    rescaled to 0.9, a gain of 0.6, was sent to check --arch)."""
    import srnet.loading
    from srnet.loading import Workload, fit_warning

    net = torch.nn.Sequential(torch.nn.Linear(2, 1))
    workload = Workload("w", net, np.zeros((4, 2)), ["a", "b"], y=np.array([0.3, 1.7, 2.2, 5.1]), architecture="mlp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(srnet.loading, "_rescaled_r2", lambda workload: rescaled)
        warning = fit_warning(workload, {"network_r2": r2})
    assert warning.startswith(f"the network's R2 against the target is {r2:.4g}")
    assert ("once its output is rescaled (a * output + b)" in warning) is told
    # (rescaled to R2 0.5 the fit is still loose: a tanh network loaded as sigmoid read 0.64; --arch is asked too)
    assert ("is --arch right" in warning) is arch


def test_a_two_output_network_of_any_depth_given_two_classes_is_asked_if_it_is_a_classifier():
    """Kills x_fit_warning__mutmut_53 ('outputs > 2': a two-logit classifier loaded without its softmax went
    without a word) and _45 (widths[+1]: the second layer's width, the output's only for one hidden layer)."""
    from srnet.loading import Workload, fit_warning

    torch.manual_seed(0)
    deep = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3), torch.nn.Tanh(),
                               torch.nn.Linear(3, 2))
    y = np.array([0.0, 1.0] * 5)
    for net in (torch.nn.Sequential(torch.nn.Linear(2, 2)), deep):
        warning = fit_warning(Workload("w", net, np.zeros((10, 2)), ["a", "b"], y=y), {"network_r2": None})
        assert warning.startswith("the network has 2 outputs and no softmax head, and the target 2 classes: "
                                  "a classifier? then ")


def test_a_network_of_exactly_the_poor_fit_r2_is_not_poor():
    """Kills x_fit_warning__mutmut_65 ('r2 <= POOR_FIT_R2': a network of R2 exactly 0.5 was warned of)."""
    from srnet.loading import POOR_FIT_R2, Workload, fit_warning

    net = torch.nn.Sequential(torch.nn.Linear(2, 1))
    workload = Workload("w", net, np.zeros((4, 2)), ["a", "b"], y=np.array([0.3, 1.7, 2.2, 5.1]), architecture="mlp")
    assert fit_warning(workload, {"network_r2": POOR_FIT_R2}) is None
    assert fit_warning(workload, {"network_r2": POOR_FIT_R2 - 0.3}) is not None
