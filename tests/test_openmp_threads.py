"""srnet leaves the process's OpenMP thread count (torch's) as the user set it.

numba's OpenMP layer starts its thread pool by setting OpenMP's count to
``NUMBA_NUM_THREADS``, and pip's torch loads the same ``libgomp.so.1``: a
user's ``torch.set_num_threads(1)`` read 2 after a fit.  Each check runs in a
fresh process, where numba's pool has not started yet.
"""

import subprocess
import sys
import textwrap

import numba
import pytest

pytestmark = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="numba has one thread here")


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_a_fit_keeps_the_users_torch_thread_count():
    assert _run("""
        import numpy as np
        import torch

        torch.set_num_threads(1)
        from srnet import SRNet

        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
        SRNet(max_generations=2, random_state=0, progress=False).fit(net, np.linspace(-1, 1, 64).reshape(-1, 1))
        print(torch.get_num_threads())
    """) == "1"


def test_a_batch_worker_runs_torch_and_numba_on_one_thread():
    assert _run("""
        import numba
        import torch

        from srnet.bench.jobs import _one_thread

        _one_thread()
        print(torch.get_num_threads(), numba.get_num_threads())
    """) == "1 1"
