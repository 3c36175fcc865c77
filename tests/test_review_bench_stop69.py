"""A batch user's review of srnet bench (stop 69): methods counted apart against MAPLE, an empty seed refused, the
results/ folder given to srnet report pointed at its bench folder."""

import pytest
from test_review_plots_report import _frame

from srnet.bench.report import write_report
from srnet.bench.suites import parse_seeds


def test_srnet_vs_maple_counts_each_method_apart(drawn, tmp_path):
    """srnet's and srnet-paper's jobs were counted as one: "SRNet higher on 2 of 6 jobs"."""
    from srnet.bench.report import write_plots

    frame = _frame([("classification", 0.99, 0.95), ("classification", 0.96, 0.94), ("classification", 0.9, 0.97)])
    frame.loc[2, "method"] = "srnet-paper"
    write_plots(frame, tmp_path)
    title = drawn["srnet_vs_maple.png"].axes[0].get_title().splitlines()
    assert title[1:] == ["srnet higher on 2 of 2 jobs, tied on 0, lower on 0",
                         "srnet-paper higher on 0 of 1 jobs, tied on 0, lower on 1"]


@pytest.mark.parametrize("text", ["0,,1", ",1", "0, ,1"])
def test_an_empty_seed_is_refused(text):
    with pytest.raises(ValueError, match="an empty seed in"):
        parse_seeds(text)


def test_a_trailing_comma_before_the_next_seed_is_read_as_the_shell_splits_it():
    assert parse_seeds(["0,", "1"]) == (0, 1) and parse_seeds("0,") == (0,)


def test_report_on_the_results_folder_names_the_bench_folder(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "batch.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match=f"give the bench folder, '{tmp_path}'"):
        write_report(tmp_path / "results", plots=False)

