"""Activations from explanations: formulas as torch activation functions.

* :class:`ExpressionActivation`: a one-variable formula (a CGP genome, a
  program or a sympy expression) as a differentiable, compilable, JSON-saved
  element-wise activation (:mod:`srnet.activations.module`), with the
  checks and transformations of candidate formulas
  (:mod:`srnet.activations.programs`) and the sympy -> program converter
  (:mod:`srnet.activations.from_sympy`);
* the activations srnet ships, by name (:func:`load_builtin`,
  :mod:`srnet.activations.builtin`);
* the routes to a formula: from a dataset's labels, from an explanation of a
  trained network (:mod:`srnet.activations.routes`), by an evolutionary
  search scored by training (:mod:`srnet.activations.search`);
* the networks and metrics of the activation study
  (:mod:`srnet.activations.study_models`);
* the fused kernels each way (:mod:`srnet.activations.fused`);
* transformers: a byte-level language model whose MLP activation is any
  module, and its perplexity as a search fitness
  (:mod:`srnet.activations.language_model`), and a trained MLP block
  explained through principal directions (:mod:`srnet.activations.mlp_block`).
"""

from srnet.activations.builtin import builtin_names, load_builtin
from srnet.activations.from_sympy import program_from_sympy, supported_forms
from srnet.activations.module import ExpressionActivation
from srnet.activations.programs import (
    CHECK_RANGE,
    VARIABLE,
    DegenerateActivationError,
    check_activation,
    check_protected_points,
    collapse_inputs,
    collapse_variables,
    simplify_program,
    standardize_program,
)
from srnet.activations.routes import (
    FoundActivation,
    activation_from_data,
    activation_from_layer,
    activation_from_neurons,
    make_activation,
    neuron_pairs,
    raw_formula,
)
from srnet.activations.search import SEARCH_FUNCTIONS, search_activation
from srnet.activations.study_models import (
    count_parameters,
    efficiency,
    evaluate_binary,
    fit_and_score,
    heavy_network,
    light_network,
    one_vs_rest,
    resolve_device,
    seeded,
    split,
    standardize,
    train_binary,
)

__all__ = [
    "CHECK_RANGE",
    "SEARCH_FUNCTIONS",
    "VARIABLE",
    "DegenerateActivationError",
    "ExpressionActivation",
    "FoundActivation",
    "activation_from_data",
    "activation_from_layer",
    "activation_from_neurons",
    "builtin_names",
    "check_activation",
    "check_protected_points",
    "collapse_inputs",
    "collapse_variables",
    "count_parameters",
    "efficiency",
    "evaluate_binary",
    "fit_and_score",
    "heavy_network",
    "light_network",
    "load_builtin",
    "make_activation",
    "neuron_pairs",
    "one_vs_rest",
    "program_from_sympy",
    "raw_formula",
    "resolve_device",
    "search_activation",
    "seeded",
    "simplify_program",
    "split",
    "standardize",
    "standardize_program",
    "supported_forms",
    "train_binary",
]
