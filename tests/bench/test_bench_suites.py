"""Suite names resolve into validated job lists before any work starts."""

import pytest

from srnet.bench.suites import BatchSettings, job_id, parse_seeds, parse_widths, resolve_suite, safe_name


def test_nguyen_suite_expands_datasets_methods_and_seeds():
    suite = resolve_suite("nguyen", seeds=(0, 1), methods=("srnet", "srnet-paper"))
    assert len(suite.jobs) == 12 * 2 * 2
    assert suite.datasets[:2] == ["nguyen-1", "nguyen-2"]
    first = suite.jobs[0]
    assert (first.dataset, first.method, first.seed, first.task) == ("nguyen-1", "srnet", 0, "regression")
    assert first.job_id == "nguyen-1__srnet__seed0"
    assert len({job.job_id for job in suite.jobs}) == len(suite.jobs)


def test_limit_and_named_subsets():
    suite = resolve_suite("nguyen:nguyen-7,nguyen-1,nguyen-7", limit=1)
    assert [job.dataset for job in suite.jobs] == ["nguyen-7"]
    assert any("--limit 1" in note for note in suite.notes)


@pytest.mark.parametrize("text, seeds", [("0", (0,)), ("0,1,2", (0, 1, 2)), (["3", "1"], (3, 1)), ("0-3", (0, 1, 2, 3)),
                                         ("2 2", (2,))])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text, match", [
    ("-1", "bad seed"), ("a", "bad seed"), ("", "no seeds"), ("3-1", "empty seed range"),
    ("4294967295", "seed 4294967295 is too large: seeds go up to 4294967294"),  # sklearn refused seed + 1
    ("0-1000000000", "seed range '0-1000000000' is too long: at most 10000"),  # expanded into memory before
    ("0-9999,10000", "too many seeds"),
])
def test_bad_seeds(text, match):
    with pytest.raises(ValueError, match=match):
        parse_seeds(text)
    assert parse_seeds("4294967294") == (4294967294,) and len(parse_seeds("0-9999")) == 10_000


def test_parse_widths():
    assert parse_widths("32,32") == (32, 32)
    assert parse_widths("8-4") == (8, 4)
    with pytest.raises(ValueError, match="hidden"):
        parse_widths("32,x")
    assert parse_widths("10000000") == (10**7,)  # the widest a network holds
    with pytest.raises(ValueError, match=r"^--hidden width 10,000,001 is more than a network holds \(at most 10,000,000\)$"):
        parse_widths("32,10000001")  # (every job failed, one by one, on it)


def test_safe_names_never_collide():
    assert safe_name("iris") == "iris"
    assert safe_name("a/b") != safe_name("a_b")
    assert "/" not in job_id("a/b", "srnet", 0)


def test_unknown_pmlb_name_suggests_close_matches(tmp_path):
    with pytest.raises(ValueError, match="did you mean 'iris'"):
        resolve_suite("pmlb:irsi", pmlb_cache=tmp_path)


def test_empty_cache_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds none of PMLB's"):
        resolve_suite("pmlb-classification", pmlb_cache=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_suite("pmlb-regression", pmlb_cache=tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="--download"):
        resolve_suite("pmlb:iris", pmlb_cache=tmp_path)


def test_pmlb_classification_suite_takes_what_the_cache_has(pmlb_cache):
    suite = resolve_suite("pmlb-classification", pmlb_cache=pmlb_cache)
    assert len(suite.jobs) >= 100
    assert {job.task for job in suite.jobs} == {"classification"}
    assert all((pmlb_cache / job.dataset / f"{job.dataset}.tsv.gz").is_file() for job in suite.jobs)
    named = resolve_suite("pmlb:iris,1027_ESL", pmlb_cache=pmlb_cache)
    assert [(job.dataset, job.task) for job in named.jobs] == [("iris", "classification"),
                                                                ("1027_ESL", "regression")]


def test_gecco_suite_needs_its_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SRNET_GECCO_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="--gecco-dir"):
        resolve_suite("srnet-gecco")
    with pytest.raises(FileNotFoundError, match="no reference networks"):
        resolve_suite("srnet-gecco", gecco_dir=tmp_path)


def test_gecco_suite(gecco_dir, pmlb_cache):
    suite = resolve_suite("srnet-gecco", gecco_dir=gecco_dir, pmlb_cache=pmlb_cache)
    assert len(suite.jobs) == 17
    assert "gecco-kkk0" in suite.datasets and "gecco-adult" in suite.datasets
    limited = resolve_suite("srnet-gecco", gecco_dir=gecco_dir, pmlb_cache=pmlb_cache, limit=3)
    assert len(limited.jobs) == 3 and any("--limit 3: the first 3 of 17" in note for note in limited.notes)
    with pytest.raises(ValueError, match="did you mean 'kkk0'"):
        resolve_suite("srnet-gecco:kk0", gecco_dir=gecco_dir)


@pytest.mark.parametrize("settings, match", [(BatchSettings(explainers=("shap",)), "unknown explainer"),
                                             (BatchSettings(seconds=0), "seconds"),
                                             (BatchSettings(activation="swish"), "activation"),
                                             (BatchSettings(max_rows=0), "max-rows"),
                                             (BatchSettings(n_points=1), "^--points must be >= 2, got 1$"),
                                             # every job failed on its worker (3 rows), or a bare int() error
                                             (BatchSettings(max_rows=3), "^--max-rows must be >= 10, got 3$"),
                                             (BatchSettings(seconds=float("inf")), "^--seconds must be a finite"),
                                             (BatchSettings(generations=float("nan")), "^--generations must be a fin"),
                                             (BatchSettings(early_stopping=1.0), "early-stopping"),
                                             (BatchSettings(early_stopping=float("nan")), "early-stopping")])
def test_bad_settings(settings, match):
    with pytest.raises(ValueError, match=match):
        resolve_suite("nguyen", settings=settings)


def test_the_explainers_order_names_one_batch():
    """--explainers maple,cgp_direct then cgp_direct,maple on one folder was refused as other settings."""
    first, second = BatchSettings(explainers=("maple", "cgp_direct")), BatchSettings(explainers=("cgp_direct", "maple"))
    assert first == second and first.to_dict() == second.to_dict()
    assert first.explainers == ("cgp_direct", "maple")


def test_unknown_suite_and_method():
    with pytest.raises(ValueError, match="unknown suite"):
        resolve_suite("uci")
    with pytest.raises(ValueError, match="unknown method"):
        resolve_suite("nguyen", methods=("paper",))


def test_a_nguyen_benchmark_named_twice_in_another_case_is_one_job():
    """nguyen:Nguyen-1,nguyen-1 planned two jobs under one Dask key (names were lowercased after deduplication)."""
    assert [job.dataset for job in resolve_suite("nguyen:Nguyen-1,nguyen-1").jobs] == ["nguyen-1"]


@pytest.mark.parametrize("text", ["-4", "32,-4", "32--32", "4-", ",8"])
def test_parse_widths_refuses_a_minus_sign_it_used_to_drop(text):
    with pytest.raises(ValueError, match="positive integer widths"):
        parse_widths(text)


def test_repeated_seeds_and_methods_make_each_job_once():
    suite = resolve_suite("nguyen:nguyen-1", seeds=[0, 0, 1], methods=["srnet", "srnet"])
    ids = [job.job_id for job in suite.jobs]
    assert len(ids) == len(set(ids)) == 2


def test_srnet_among_the_extra_explainers_is_the_one_that_always_runs():
    """compare's list, pasted into bench (--explainers srnet,lime), was refused as "unknown explainer 'srnet'"
    beside "(SRNet always runs)"."""
    assert BatchSettings(explainers=("srnet", "lime")).explainers == ("lime",)
    assert BatchSettings(explainers="srnet").validate().explainers == ()
