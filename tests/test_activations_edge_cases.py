"""Defects found reviewing srnet.activations (module, programs, routes); each test fails on the code as reviewed.

1. The formula text of a program whose steps share sub-expressions is written out as a tree: its length (and
   the time to print it) doubles every three steps.  A 1.2 KB activation file whose (degenerate) formula is
   refused answers with an error "line" of tens of kilobytes (a 1.4 KB file: 0.9 MB and 27 s), and a valid
   36-step activation saves a 60 KB "formula" field (48 steps: 0.9 MB, 17 s).
2. ``activation_from_layer`` checks ``layer`` but not ``feature``: 0.5 and "0" are TypeError tracebacks
   from deep inside collapse_inputs, True silently picks feature 1.
3. An activation whose outputs all have weight 0 (a constant, allowed with ``check_range=None``) computes
   ``0 * inf = NaN`` where its output overflows, while its Program and its printed formula give the constant.
"""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import sympy
import torch

from srnet.activations import ExpressionActivation, activation_from_layer
from srnet.expr import Program


def shared_chain(blocks: int, overflow: bool = False) -> Program:
    """``s_{k+1} = sin(s_k) + cos(s_k)``, ``s_0 = x``: 3 steps per block, the written-out tree doubles per block.
    With ``overflow``, times exp(x) squared 12 times (not finite on [-5, 5]: the check refuses it)."""
    steps, prev = [], 0
    for _ in range(blocks):
        base = 1 + len(steps)
        steps += [("sin", prev, 0), ("cos", prev, 0), ("add", base, base + 1)]
        prev = base + 2
    if overflow:
        steps.append(("exp", 0, 0))
        for _ in range(12):
            steps.append(("square", len(steps), 0))
        steps.append(("mul", prev, len(steps)))
        prev = len(steps)
    return Program(1, (), tuple(steps), (prev,), [[1.0]], [0.0])


def test_a_small_refused_activation_file_answers_in_one_short_line():
    data = ExpressionActivation(shared_chain(1)).to_dict()
    data["program"] = shared_chain(11, overflow=True).to_dict()
    text = json.dumps(data)
    assert len(text) < 1200  # a small file ...
    with pytest.raises(ValueError) as error:
        ExpressionActivation.from_json(text)
    # ... refused with an error message of ~29,000 characters (0.9 MB for a 1.4 KB file of 16 blocks)
    assert len(str(error.value)) < 2000, f"{len(str(error.value))} characters"


def test_saving_an_activation_of_shared_sub_expressions_stays_proportionate():
    activation = ExpressionActivation(shared_chain(11))  # 33 steps, a usable activation
    text = activation.to_json()
    assert len(text) < 20000, f"{len(text)} characters of JSON for a {activation.n_nodes}-step program"
    assert len(repr(activation)) < 5000


def two_feature_explainer():
    program = Program(2, (), (("sin", 0, 0), ("tanh", 1, 0), ("mul", 2, 3)), (2, 4), [[1.0, 0.0], [0.0, 1.0]],
                      [0.0, 0.0])
    return SimpleNamespace(programs_=[program])


@pytest.mark.parametrize("feature", [0.5, 1.0, "0", True])
def test_a_feature_index_must_be_a_whole_number(feature):
    with pytest.raises(ValueError, match="feature"):
        activation_from_layer(two_feature_explainer(), 0, feature=feature)


def test_an_out_of_range_feature_is_named_as_the_caller_named_it():
    with pytest.raises(ValueError, match="feature"):
        activation_from_layer(two_feature_explainer(), 0, feature=2)


@pytest.mark.parametrize("fused", [True, False])
def test_an_output_of_weight_zero_adds_nothing_when_it_overflows(fused):
    program = Program(1, (), (("square", 0, 0),), (1,), [[0.0]], [0.5])  # g(x) = 0 * x**2 + 0.5
    activation = ExpressionActivation(program, check_range=None, fused=fused)
    x = np.array([1.0, 1e200, math.inf])
    assert activation.formula == "1/2"
    np.testing.assert_array_equal(program(x[:, None]), [0.5, 0.5, 0.5])
    got = activation(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_array_equal(got, [0.5, 0.5, 0.5])  # got [0.5, nan, nan]


@pytest.mark.parametrize("bad", [(math.nan, 1.0), (1.0, -1.0), "wide"])
def test_a_bad_check_range_is_named_check_range_before_any_training(bad):
    from srnet.activations import search_activation
    from srnet.activations.scorer import ActivationScorer

    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(float)
    with pytest.raises(ValueError, match="check_range"):
        search_activation(X, y, X, y, max_generations=1, check_range=bad)

    class Nothing(ActivationScorer):
        def train(self, activation):
            return 0.0

    with pytest.raises(ValueError, match="check_range"):
        Nothing(check_range=bad)


def test_a_found_formula_too_large_to_read_is_named_by_its_size_in_its_source():
    from srnet.activations.routes import raw_text

    assert raw_text(shared_chain(2)).startswith("sin(")  # a small one is written out
    assert raw_text(shared_chain(16)).startswith("<a formula of 48 steps")


def test_flags_that_are_not_booleans_are_refused():
    """activation_from_data(normalize="no") normalised: a string is true."""
    from srnet.activations import activation_from_data

    x = np.linspace(-2, 2, 50)
    with pytest.raises(ValueError, match=r"^normalize must be True or False, got 'no'$"):
        activation_from_data(x[:, None], np.sin(x), max_generations=2, max_seconds=None, normalize="no")
    with pytest.raises(ValueError, match=r"^fused must be True or False, got 'no'$"):
        ExpressionActivation(shared_chain(1), fused="no")
    activation = ExpressionActivation(shared_chain(1))
    with pytest.raises(ValueError, match=r"^fused must be True or False, got 'no'$"):  # set later: the fused path ran
        activation.fused = "no"
    assert activation.fused is True
    activation.fused = np.False_
    assert activation.fused is False
    x = sympy.Symbol("x")
    with pytest.raises(ValueError, match=r"^protected must be True or False, got 'no'$"):  # built log|x|
        ExpressionActivation.from_sympy(sympy.log(x), protected="no")


def test_a_sympy_expression_given_to_the_constructor_points_to_from_sympy():
    """ExpressionActivation(sympy.sin(x)) said "expected an srnet.expr.Program, got sin"."""
    with pytest.raises(TypeError, match=r"^expected an srnet\.expr\.Program, got the sympy expression sin\(x\); "
                                        r"build it with ExpressionActivation\.from_sympy$"):
        ExpressionActivation(sympy.sin(sympy.Symbol("x")))


def test_a_binary_search_of_one_class_is_refused_before_any_training():
    from srnet.activations import search_activation

    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ValueError, match=r"^y_train holds one class \(0 on all 40 rows\): a binary task needs rows "
                                         r"of both 0 and 1$"):
        search_activation(X, np.zeros(40), X, np.zeros(40), max_generations=1)


def test_activation_files_that_are_folders_or_not_text_are_named(tmp_path):
    activation = ExpressionActivation(shared_chain(1))
    with pytest.raises(IsADirectoryError, match=rf"^cannot save the activation as '{tmp_path}': it is a folder$"):
        activation.save(tmp_path)
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match=r"binary.json' is not an activation file \(not UTF-8 text: invalid start "
                                         r"byte at byte 0\)$"):
        ExpressionActivation.load(tmp_path / "binary.json")
    assert not list(tmp_path.glob(".tmp-*"))


def test_an_activation_file_whose_formula_was_edited_by_hand_says_the_program_is_loaded(tmp_path):
    """Editing the file's one readable field ("formula") loaded the old activation without a word."""
    import json
    import warnings

    import sympy

    from srnet.activations import ExpressionActivation

    x = sympy.Symbol("x")
    original = ExpressionActivation.from_sympy(sympy.tanh(x) + 0.5 * sympy.sin(x))
    data = original.to_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ExpressionActivation.from_dict(json.loads(json.dumps(data))).formula == original.formula
    data["formula"] = "x*tanh(x)"
    with pytest.warns(UserWarning, match=r"^the activation file's formula reads 'x\*tanh\(x\)', but its program "
                                         r"computes sin\(x\)/2 \+ tanh\(x\): srnet loads the program"):
        loaded = ExpressionActivation.from_dict(data)
    assert loaded.formula == original.formula
    data["formula"] = "0.5*sin(x) + tanh(x)"  # as files written before formulas printed 1/2 read: the file's own
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ExpressionActivation.from_dict(data).formula == "sin(x)/2 + tanh(x)"
