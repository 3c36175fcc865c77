"""Small mends of stop 71, each with the case that showed it."""
import numpy as np
import pytest

from srnet.names import class_name, label_text


@pytest.mark.parametrize("label, text", [
    (1.0, "1"), (2, "2"), (np.float32(3.0), "3"), (np.int64(4), "4"), (1.5, "1.5"), (" benign ", "benign"),
    (True, "True"), (float("nan"), "nan"), (float("inf"), "inf")])
def test_a_label_reads_one_way_in_classes_lines_and_class_names(label, text):
    """--classes, the lines listing a target's labels and the printed class names read a label by one rule (two
    copies differed: True was "class 1" beside "True", and a float32 2.0 "2.0" beside "class 2")."""
    assert label_text(label) == text
    assert class_name(label) == f"class {text}"
