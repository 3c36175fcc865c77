"""A Hypothesis strategy shared by the tests of formulas and of their input coordinates: random chains of
programs (1-3 inputs, 1-3 programs of up to 6 steps), each program reading the one before."""

import numpy as np
from hypothesis import strategies as st

from srnet.expr.program import Program
from srnet.formulas import Formula


@st.composite
def random_chains(draw):
    names = ("add", "div", "log", "sin", "square", "mul")
    n_inputs = draw(st.integers(1, 3))
    programs = []
    for _ in range(draw(st.integers(1, 3))):
        n_constants = draw(st.integers(0, 2))
        base = n_inputs + n_constants
        steps = tuple((draw(st.sampled_from(names)), draw(st.integers(0, base + k - 1)),
                       draw(st.integers(0, base + k - 1))) for k in range(draw(st.integers(0, 6))))
        top = base + len(steps)
        outputs = tuple(draw(st.lists(st.integers(0, top - 1), min_size=1, max_size=3)))
        n_targets = draw(st.integers(1, 3))
        weights = np.array(draw(st.lists(st.lists(st.sampled_from([0.0, 0.0, 1.0, -2.0]), min_size=n_targets,
                                                  max_size=n_targets), min_size=len(outputs), max_size=len(outputs))))
        programs.append(Program(n_inputs, (1.5,) * n_constants, steps, outputs, weights, np.zeros(n_targets)))
        n_inputs = n_targets
    return Formula("layerwise", tuple(programs))
