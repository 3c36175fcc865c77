"""Fixtures of the batch-runner tests."""

import pytest


@pytest.fixture
def no_cluster(monkeypatch):
    """Fail the test if it starts a Dask cluster (a case with nothing to run must not)."""
    def refuse(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr("srnet.bench.runner.dask_client", refuse)
