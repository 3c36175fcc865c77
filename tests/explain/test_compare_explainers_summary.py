"""experiments/compare_explainers.py: the test-box table and the count of networks where SRNet wins."""

import json

import pytest


@pytest.fixture
def experiment(experiment_script):
    return experiment_script("compare_explainers")


def record(network, explainer, rmse, rmse_around, size=10, domain="extrapolation"):
    return {"network": network, "explainer": explainer, "domain": domain, "rmse": rmse, "rmse_std": 0.0,
            "rmse_around": rmse_around, "rmse_around_std": 0.0, "size": size}


def test_the_test_box_summary_counts_wins_per_rival_and_protocol(experiment, capsys):
    explainers = ["srnet", "lime", "maple", "pyoperon"]
    records = [
        # kkk0: SRNet beats MAPLE at the point and pyoperon, loses to LIME around the point
        record("kkk0", "srnet", 0.5, 0.5, size=42), record("kkk0", "lime", 0.0, 0.1),
        record("kkk0", "maple", 1.0, 0.2), record("kkk0", "pyoperon", 0.7, 0.7),
        # kkk1: SRNet beats all three
        record("kkk1", "srnet", 0.1, 0.1, size=7), record("kkk1", "lime", 0.0, 0.3),
        record("kkk1", "maple", 0.2, 0.2), record("kkk1", "pyoperon", float("inf"), float("inf")),
        record("kkk1", "srnet", 9.0, 9.0, domain="interpolation"),  # other domains do not count
    ]
    rows, summary = experiment.test_box_summary(records, explainers)
    assert [r["network"] for r in rows] == ["kkk0", "kkk1"]
    assert rows[0]["srnet_complexity"] == 42 and rows[1]["srnet_complexity"] == 7
    assert rows[0]["rmse"]["maple"] == {"rmse": 1.0, "rmse_std": 0.0, "rmse_around": 0.2, "rmse_around_std": 0.0}
    assert rows[0]["srnet_beats"] == {"maple": True, "lime": False, "pyoperon": True}
    assert rows[1]["srnet_beats"] == {"maple": True, "lime": True, "pyoperon": True}
    assert summary == {"networks": 2, "srnet_beats_maple": 2, "compared_with_maple": 2, "srnet_beats_lime": 1,
                       "compared_with_lime": 2, "srnet_beats_pyoperon": 2, "compared_with_pyoperon": 2,
                       "srnet_beats_all": 1}
    json.dumps({"test_box": rows, "summary": summary})  # JSON-ready
    experiment.print_test_box(rows, summary, explainers)
    out = capsys.readouterr().out
    assert "0.5 / 0.5" in out and "1 / 0.2" in out
    assert ("summary: SRNet's test-box RMSE is lower than MAPLE (at the point) on 2 of 2; LIME (around) on 1 of 2; "
            "pyoperon on 2 of 2 networks; than all of them on 1 of 2") in out


def test_a_rival_left_out_is_not_counted(experiment):
    rows, summary = experiment.test_box_summary([record("kkk0", "srnet", 0.5, 0.5), record("kkk0", "maple", 1, 1)],
                                                ["srnet", "maple"])
    assert rows[0]["srnet_beats"] == {"maple": True}
    assert summary["compared_with_pyoperon"] == 0 and summary["srnet_beats_pyoperon"] is None
    assert summary["srnet_beats_all"] == 1
