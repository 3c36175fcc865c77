"""What the experiment scripts share: one check of their numeric options (a bad value is one line from
argparse, before any work: --jobs 0 or --seconds -1 was a traceback from a worker after the pool had
started; --trials 0 wrote an empty JSON), where the shared data are, the machine's load, optional peers,
Ctrl-C."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from srnet.data import check_budget

#: ../shared beside the project root: the data the experiments read in place (never copied into the repository).
SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(variable: str, name: str) -> str:
    """A shared data folder: the environment ``variable`` when set and not empty, else ``../shared/name``."""
    return os.environ.get(variable) or str(SHARED / name)


def load_average() -> float | None:
    """The last minute's load average (None where the system has none): a busy machine skews timings."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def try_import(name: str):
    """The module, or None when it is not installed (the optional peers: pyoperon, gplearn)."""
    try:
        return __import__(name)
    except ImportError:
        return None


def check_numbers(parser, args, *, counts=(), budgets=(), naturals=()) -> None:
    """``counts``: options that are whole numbers >= 1; ``budgets``: options that are numbers > 0 (None
    allowed, as "no budget"); ``naturals``: whole numbers >= 0 (a step count where 0 means none)."""
    try:
        for options, minimum in ((counts, 1), (naturals, 0)):
            for option in options:
                value = getattr(args, option)
                if value is not None:
                    check_budget(f"--{option.replace('_', '-')}", value, integer=True, minimum=minimum)
        for option in budgets:
            check_budget(f"--{option.replace('_', '-')}", getattr(args, option), allow_none=True)
    except ValueError as error:
        parser.error(str(error))


def output_file(text: str) -> str:
    """``--json PATH`` checked when the options are read (argparse's ``type=``): a folder, or a folder that
    cannot be made, failed only when the results were written, after the whole run."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"'{text}' is a folder; give the path of a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot make the folder '{path.parent}' ({error.strerror or error})") \
            from None
    if not os.access(path.parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write in the folder '{path.parent}'")
    return text


def output_folder(text: str) -> str:
    """``--out FOLDER`` made, or an ArgumentTypeError saying why it cannot be (a file there, a folder that cannot
    be made or written in: each was a traceback)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"'{text}' is a file; give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot make the folder '{text}' ({error.strerror or error})") from None
    if not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write in the folder '{text}'")
    return text


def parse_with_quick_defaults(parser, argv, **quick):
    """``parser.parse_args(argv)``, with ``quick`` as the defaults when ``--quick`` is given: an option given
    beside it still counts (the scripts overwrote the parsed options with their quick values)."""
    if parser.parse_known_args(argv)[0].quick:
        parser.set_defaults(**quick)
    return parser.parse_args(argv)


def names_once(names) -> list[str]:
    """Names given joined by "," (or as a list), stripped, empty ones dropped, each once in the order given:
    a repeated name was measured again and counted twice."""
    parts = names.split(",") if isinstance(names, str) else names
    return list(dict.fromkeys(name.strip() for name in parts if name.strip()))


def measuring() -> None:
    """Make every Ctrl-C interrupt srnet's searches in this process (see :func:`run_script`); a process pool's
    ``initializer`` too: a worker's search cut short came back as a finished run."""
    from srnet.cgp import driver

    driver.KEEP_BEST_ON_INTERRUPT = False


def pool_map(function, tasks: list, jobs: int, report, noun: str) -> tuple[list, bool]:
    """``function`` over ``tasks`` on ``jobs`` worker processes (every Ctrl-C interrupts their searches:
    :func:`measuring`), ``report(result)`` after each, in order; a Ctrl-C keeps the results finished so far
    (pool.map's list went with the pool: hours of runs, no JSON).  Returns (results, interrupted)."""
    results, interrupted = [], False
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=measuring)
    try:
        for result in pool.map(function, tasks):
            results.append(result)
            report(result)
    except KeyboardInterrupt:
        interrupted = True
        print(f"\ninterrupted: {len(results)} of {len(tasks)} {noun} finished, kept", flush=True)
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    return results, interrupted


def run_script(main) -> int:
    """``main()``'s exit status, with Ctrl-C stopping the experiment: srnet's searches stop and keep their best
    so far on a first Ctrl-C (interactive use), so the scripts saved a search cut short as a valid figure and
    went on (exit 0), or died with a traceback; here every Ctrl-C interrupts, and the script ends in one line,
    exit 130, with nothing more written (what a script had finished and written stays)."""
    from srnet.cgp import driver

    measuring()
    try:
        return main()
    except (KeyboardInterrupt, SystemError) as error:  # (numba's SystemError wraps a Ctrl-C in a compiled call)
        if not driver.is_interrupt(error):
            raise
        print("\ninterrupted (Ctrl-C): the experiment stopped; figures cut short are not written", file=sys.stderr)
        return 130
