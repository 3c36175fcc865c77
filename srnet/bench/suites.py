"""Suites of batch jobs: a suite name resolved into a validated job list.

A job is one (dataset, method, seed).  :func:`resolve_suite` turns a suite
name into its jobs and checks everything a job will need that can be checked
on the client (dataset names, cached tables, reference-network folders,
methods, explainers, seeds) before any work starts, so that a mistake costs
one clear error and no cluster.

Suites
------
``pmlb-classification``, ``pmlb-regression``
    Every dataset of PMLB's classification (regression) list that is in the
    PMLB cache folder.
``pmlb:NAME,NAME,...``
    Those PMLB datasets.  The task is the user's (``task=``, ``--task``),
    else PMLB's lists', else guessed from the labels (the guess is noted).
``nguyen``, ``nguyen:nguyen-1,nguyen-7,...``
    The Nguyen formulas (:data:`srnet.benchmarks.NGUYEN`), sampled.
``srnet-gecco``, ``srnet-gecco:kkk0,adult,...``
    The SRNet paper's trained reference networks (no training), with their
    recorded data; ``adult`` ships no data and uses PMLB's table.

Dataset ids are suite-independent: a PMLB dataset is its PMLB name (so
``pmlb:adult`` and ``pmlb-classification`` share results), a Nguyen formula
its benchmark name, and a reference network ``gecco-<name>``.
"""

from __future__ import annotations

import difflib
import hashlib
import numbers
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from srnet.data import TASKS, check_budget, check_task, guess_task, pmlb_cache_dir, pmlb_cached, pmlb_name_hint

GECCO_DIR_ENV = "SRNET_GECCO_DIR"
METHODS = {"srnet": "default", "srnet-paper": "paper"}  # method -> SRNet preset
EXTRA_EXPLAINERS = ("lime", "maple", "cgp_direct", "gplearn", "pyoperon", "xnet")
SUITES = ("pmlb-classification", "pmlb-regression", "pmlb:NAME,...", "nguyen", "nguyen:NAME,...", "srnet-gecco",
          "srnet-gecco:NAME,...")


@dataclass(frozen=True)
class BatchSettings:
    """What every job of a batch does, beyond its (dataset, method, seed).

    These settings change results, so a result folder holds results of one
    set of settings only (see :mod:`srnet.bench.store`).

    Attributes
    ----------
    seconds : float or None, default=10.0
        Wall budget of each formula search (SRNet, cgp_direct, pyoperon).
    generations : int or None, default=None
        Generation budget instead of ``seconds`` (fixed work per job).
    explainers : tuple of str, default=()
        Extra explainers measured beside SRNet: ``lime``, ``maple``,
        ``cgp_direct``, ``gplearn``, ``pyoperon``, ``xnet``.
    hidden : tuple of int, default=(32, 32)
        Hidden widths of the networks the batch trains.
    activation : str, default="sigmoid"
    epochs : int or None, default=None
        None: enough epochs for about :attr:`steps` optimiser steps
        (at least 20, at most 2000).
    steps : int, default=2000
    early_stopping : float, default=0.2
        The share of its training rows a network holds out to stop training
        early (after :data:`srnet.bench.jobs.PATIENCE_STEPS` steps without a
        lower loss on them, keeping its best weights), as networks are
        trained in practice; 0: every row, all the epochs.  Without it, a
        network on a small noisy table memorises it (100 % of its training
        rows, near chance on its test rows), and an explanation is asked to
        copy noise.
    max_rows : int, default=5000
        Training rows at most; larger datasets are subsampled (seeded,
        stratified for classification) before the split.
    test_fraction : float, default=0.25
    n_points : int, default=1000
        Evaluation points per domain of :func:`srnet.compare.compare`.
    nguyen_rows : int, default=200
        Training points sampled from a Nguyen formula's box.
    """

    seconds: float | None = 10.0
    generations: int | None = None
    explainers: tuple[str, ...] = ()
    hidden: tuple[int, ...] = (32, 32)
    activation: str = "sigmoid"
    epochs: int | None = None
    steps: int = 2000
    early_stopping: float = 0.2
    max_rows: int = 5000
    test_fraction: float = 0.25
    n_points: int = 1000
    nguyen_rows: int = 200

    def __post_init__(self):
        # one batch whatever order the explainers are named in (each draws its seed in this order)
        # (one name as a string was split into its letters: "unknown explainer 'e'")
        names = (self.explainers,) if isinstance(self.explainers, str) else self.explainers
        # "srnet" (compare's list starts with it, pasted here) always runs: not an extra one
        object.__setattr__(self, "explainers", tuple(sorted(set(names) - {"srnet"})))

    def validate(self) -> "BatchSettings":
        """Every setting checked by the rules of the command line's options (srnet.data.check_budget), so that
        settings built in Python fail here in one line, not in every job on the workers."""
        from srnet.data import MIN_ROWS, check_budget
        from srnet.networks import ACTIVATIONS

        if self.generations is not None:
            check_budget("--generations", self.generations, integer=True)
        else:
            check_budget("--seconds", self.seconds)
        unknown = [e for e in self.explainers if e not in EXTRA_EXPLAINERS]
        if unknown:
            raise ValueError(f"unknown explainer {unknown[0]!r}; valid: {', '.join(EXTRA_EXPLAINERS)} "
                             f"(SRNet always runs)")
        from srnet.explain import check_explainers

        check_explainers(self.explainers)  # a missing optional package: one line naming it
        # whole numbers by type: train_mlp refuses 4.0, "4" and True, in every job on the workers
        if not self.hidden or any(isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1
                                  for w in self.hidden):
            raise ValueError(f"--hidden needs positive integer widths, e.g. 32,32; got {self.hidden}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; valid: {', '.join(ACTIVATIONS)}")
        for name, option, lowest in (("epochs", "--epochs", 1), ("steps", "steps", 1),
                                     ("max_rows", "--max-rows", MIN_ROWS), ("n_points", "--points", 2),
                                     ("nguyen_rows", "nguyen_rows", MIN_ROWS)):
            # an R^2 needs two points (compare refused 1 in every job); a job needs MIN_ROWS rows to explain
            check_budget(option, getattr(self, name), allow_none=True, integer=True, minimum=lowest)
        if check_budget("--early-stopping", self.early_stopping, positive=False) >= 1:
            raise ValueError(f"--early-stopping must be in [0, 1) (0: off); got {self.early_stopping}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test fraction must be in (0, 1); got {self.test_fraction}")
        if self.early_stopping and self.max_rows is not None:  # (else every job failed, one by one, on it)
            from srnet.train import held_out_rows

            held = held_out_rows(self.max_rows, self.early_stopping)
            if held < 1 or self.max_rows - held < 1:
                raise ValueError(f"--early-stopping {self.early_stopping:g} of --max-rows {self.max_rows} training "
                                 f"rows leaves no row to " + ("stop on" if held < 1 else "train on")
                                 + ": raise --max-rows, or change --early-stopping (0: off)")
        return self

    def to_dict(self) -> dict:
        data = asdict(self)
        data["explainers"] = list(self.explainers)
        data["hidden"] = list(self.hidden)
        return data


@dataclass(frozen=True)
class JobSpec:
    """One job: everything a worker needs, and nothing it must look up.

    Attributes
    ----------
    dataset : str
        The suite-independent dataset id (see the module docstring).
    method : str
        A key of :data:`METHODS`.
    seed : int
    kind : {"pmlb", "nguyen", "gecco"}
    source : str
        PMLB name, benchmark name, or reference-network folder.
    task : {"classification", "regression"}
    settings : BatchSettings
    pmlb_cache : str or None
        Folder of PMLB tables (PMLB jobs, and the ``adult`` reference network).
    """

    dataset: str
    method: str
    seed: int
    kind: str
    source: str
    task: str
    settings: BatchSettings = field(default_factory=BatchSettings)
    pmlb_cache: str | None = None

    @property
    def job_id(self) -> str:
        return job_id(self.dataset, self.method, self.seed)

    def identity(self) -> dict:
        return {"id": self.job_id, "dataset": self.dataset, "method": self.method, "seed": self.seed}

    def description(self) -> dict:
        """What a result file records of its job: identity, kind, source, task."""
        return {**self.identity(), "kind": self.kind, "source": self.source, "task": self.task}


@dataclass
class Suite:
    """A resolved suite: its jobs and what the user should know about them."""

    name: str
    jobs: list[JobSpec]
    notes: list[str] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        return list(dict.fromkeys(job.dataset for job in self.jobs))


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """``name`` usable in a file name; names that had to change get a short
    hash of the original, so two different names never share a file."""
    cleaned = _SAFE.sub("_", name).strip("._") or "_"
    if cleaned == name:
        return name
    return f"{cleaned}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def job_id(dataset: str, method: str, seed: int) -> str:
    """The job's file-name-safe identity: ``<dataset>__<method>__seed<k>``."""
    return f"{safe_name(dataset)}__{safe_name(method)}__seed{int(seed)}"


def parse_job_id(identity: str) -> tuple[str, str, int] | None:
    """``(safe dataset, safe method, seed)`` of a :func:`job_id` (a result file's stem); None for another name."""
    match = re.fullmatch(r"(.+)__(.+)__seed(-?\d+)", identity)
    return None if match is None else (match.group(1), match.group(2), int(match.group(3)))


#: The largest seed: jobs hand ``seed + 1`` to scikit-learn, whose random_state is below 2**32.
MAX_SEED = 2**32 - 2
#: The most seeds one batch runs (a mistyped range such as 0-1000000000 is refused, not expanded).
MAX_SEEDS = 10_000


def seeds_named(seeds) -> str:
    """``"seed 3"``, ``"seeds 0-4"`` or ``"seeds 0-2,7"``: sorted ``seeds`` as :func:`parse_seeds` reads them (a
    batch's plan line names them: ``--seeds 3`` is seed 3, one run, where the experiments' ``--seeds 3`` counts
    three, and the plan said only "1 job")."""
    seeds = sorted(set(seeds))
    runs: list[list[int]] = []
    for seed in seeds:
        if runs and seed == runs[-1][1] + 1:
            runs[-1][1] = seed
        else:
            runs.append([seed, seed])
    text = ",".join(f"{low}" if low == high else f"{low}-{high}" for low, high in runs)
    return f"seed{'s' * (len(seeds) != 1)} {text}"


def parse_seeds(text) -> tuple[int, ...]:
    """Seeds from ``"0,1,2"``, ``["0", "1"]`` or ``"0-4"`` (inclusive range),
    each in [0, :data:`MAX_SEED`], at most :data:`MAX_SEEDS` of them."""
    items = text if isinstance(text, (list, tuple)) else [text]
    seeds = []
    for item in items:
        if re.search(r"^\s*,|,\s*,", str(item)):  # "0,,1": a seed left out? ("0," before "1", as --seeds 0, 1 splits)
            raise ValueError(f"an empty seed in {str(item)!r}: seeds are integers >= 0, like 0,1,2 or 0-4")
        for part in str(item).replace(",", " ").split():
            match = re.fullmatch(r"(\d+)-(\d+)", part)
            if match:
                low, high = int(match.group(1)), int(match.group(2))
                if high < low:
                    raise ValueError(f"empty seed range {part!r}")
                if high - low + 1 + len(seeds) > MAX_SEEDS:
                    raise ValueError(f"seed range {part!r} is too long: at most {MAX_SEEDS} seeds in a batch")
                new = range(low, high + 1)
            elif part.isdigit():
                new = [int(part)]
            else:
                raise ValueError(f"bad seed {part!r}: seeds are integers >= 0, like 0,1,2 or 0-4")
            if max(new) > MAX_SEED:
                raise ValueError(f"seed {max(new)} is too large: seeds go up to {MAX_SEED}")
            seeds += new
    if len(seeds) > MAX_SEEDS:
        raise ValueError(f"too many seeds ({len(seeds)}): at most {MAX_SEEDS} in a batch")
    if not seeds:
        raise ValueError("no seeds given")
    return tuple(dict.fromkeys(seeds))


def parse_names(text: str, what: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    """Comma-separated names, stripped, without repeats; where none may be given, ``none`` says so (as the
    options' help writes their default)."""
    names = tuple(dict.fromkeys(n.strip() for n in str(text or "").split(",") if n.strip()))
    if allow_empty and names == ("none",):
        return ()
    if not names and not allow_empty:
        raise ValueError(f"no {what} given")
    return names


def parse_widths(text) -> tuple[int, ...]:
    """Hidden widths from ``"32,32"`` or ``"32-32"``."""
    text_ = str(text).strip()
    # the whole text first: "-4" and "32,-4" split into widths 4 and (32, 4)
    if not re.fullmatch(r"\d+(?:(?:\s*,\s*|\s+|-)\d+)*", text_):
        raise ValueError(f"--hidden needs positive integer widths like 32,32; got {text!r}")
    parts = [p for p in re.split(r"[,\s-]+", text_) if p]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"--hidden needs positive integer widths like 32,32; got {text!r}")
    from srnet.networks import MAX_WIDTH

    widths = tuple(int(p) for p in parts)
    if max(widths) > MAX_WIDTH:  # (every job failed, one by one, on it)
        raise ValueError(f"--hidden width {max(widths):,} is more than a network holds (at most {MAX_WIDTH:,})")
    return widths


def resolve_suite(suite: str, *, seeds=(0,), methods=("srnet",), settings: BatchSettings | None = None,
                  pmlb_cache=None, gecco_dir=None, limit: int | None = None, download: bool = False,
                  task: str | None = None) -> Suite:
    """The jobs of ``suite``, validated.

    Parameters
    ----------
    suite : str
        See the module docstring.
    seeds : sequence of int, default=(0,)
    methods : sequence of str, default=("srnet",)
        Keys of :data:`METHODS`.
    settings : BatchSettings, optional
    pmlb_cache : path-like, optional
        Default: :func:`srnet.data.pmlb_cache_dir`.
    gecco_dir : path-like, optional
        The reference networks' folder; default ``$SRNET_GECCO_DIR``.
    limit : int, optional
        Keep only the suite's first ``limit`` datasets.
    download : bool, default=False
        ``pmlb:`` suites: fetch tables missing from the cache into it now
        (needs a network); otherwise a missing table is an error.
    task : {"classification", "regression"} or None, default=None
        The task of every dataset, stated by the user: ``pmlb:`` suites run
        their tables so (a table whose labels cannot be it is an error);
        other suites only accept their own task.  None: PMLB's lists, else a
        guess from the labels.

    Returns
    -------
    Suite

    Raises
    ------
    ValueError, FileNotFoundError
        One line saying what is wrong and how to fix it.
    """
    settings = (settings or BatchSettings()).validate()
    # once each (a repeat ran its jobs twice under one id), whole (1.7 ran as seed 1, True as 1) and at most
    # MAX_SEED (above it every job failed on the workers)
    seeds = tuple(dict.fromkeys(check_budget("seed", s, integer=True, positive=False) for s in seeds))
    if not seeds or max(seeds) > MAX_SEED:
        raise ValueError(f"seeds must be whole numbers from 0 to {MAX_SEED}; got {seeds or 'none'}")
    methods = tuple(dict.fromkeys((methods,) if isinstance(methods, str) else methods))  # a name, not its letters
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown method {unknown[0] if unknown else ''!r}; valid: {', '.join(METHODS)}")
    limit = check_budget("--limit", limit, allow_none=True, integer=True)  # 2.5 was a TypeError slicing the list
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; valid: {', '.join(TASKS)}")
    head, colon, tail = str(suite).partition(":")
    if colon and not tail.strip(" ,"):  # "nguyen:$EMPTY" ran the whole suite
        if head == "pmlb":  # (no suite of that name: "drop the ':'" sent the user to an unknown suite)
            raise ValueError("suite 'pmlb:' names no datasets after ':'; name them (pmlb:iris,wine) or run a whole "
                             "suite: pmlb-classification or pmlb-regression")
        raise ValueError(f"suite {suite!r} names no datasets after ':'; drop the ':' for the whole suite")
    notes: list[str] = []
    if head in ("pmlb-classification", "pmlb-regression") and not tail:
        _own_task_only(head, head.split("-")[1], task)
        cache = _existing_cache(pmlb_cache)
        entries = _pmlb_suite(head.split("-")[1], cache, notes)
    elif head == "pmlb" and tail:
        cache = pmlb_cache_dir(pmlb_cache)
        entries = _pmlb_names(parse_names(tail, "PMLB datasets"), cache, download, task, notes)
    elif head == "nguyen":
        _own_task_only(head, "regression", task)
        entries = _nguyen(parse_names(tail, "Nguyen benchmarks") if tail else None)
        cache = None
    elif head == "srnet-gecco":
        cache = pmlb_cache_dir(pmlb_cache)
        entries = _gecco(parse_names(tail, "reference networks") if tail else None, gecco_dir, cache, limit)
        for dataset, _, _, own in entries:
            if task is not None and own != task:
                raise ValueError(f"--task {task} does not fit reference network {dataset!r}, a trained {own} "
                                 f"network; leave --task out for srnet-gecco")
    else:
        raise ValueError(f"unknown suite {suite!r}; valid: {', '.join(SUITES)}")
    if limit is not None and len(entries) > limit:
        notes.append(f"--limit {limit}: the first {limit} of {len(entries)} datasets")
        entries = entries[:limit]
    jobs = [JobSpec(dataset, method, seed, kind, source, task, settings,
                    None if cache is None else str(Path(cache).resolve()))
            for dataset, kind, source, task in entries for method in methods for seed in seeds]
    return Suite(str(suite), jobs, notes)


# ------------------------------------------------------------------ PMLB


def _existing_cache(pmlb_cache) -> Path:
    cache = pmlb_cache_dir(pmlb_cache)
    if not cache.is_dir():
        raise FileNotFoundError(f"the PMLB cache folder '{cache}' does not exist; point --pmlb-cache or "
                                f"$SRNET_PMLB_CACHE at a folder of <name>/<name>.tsv.gz tables")
    return cache


def _pmlb_suite(task: str, cache: Path, notes: list[str]) -> list[tuple]:
    import pmlb

    listed = pmlb.classification_dataset_names if task == "classification" else pmlb.regression_dataset_names
    present = [name for name in listed if pmlb_cached(cache, name)]
    if not present:
        raise FileNotFoundError(f"the PMLB cache folder '{cache}' holds none of PMLB's {len(listed)} {task} "
                                f"datasets (<name>/<name>.tsv.gz); point --pmlb-cache or $SRNET_PMLB_CACHE at "
                                f"a filled cache, or fetch tables with pmlb:NAME,... --download")
    cached = set(present)
    missing = [name for name in listed if name not in cached]
    if missing:
        shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
        notes.append(f"{len(missing)} PMLB {task} datasets are not in '{cache}' and are left out: {shown}")
    return [(name, "pmlb", name, task) for name in present]


def _own_task_only(suite: str, own: str, task: str | None) -> None:
    if task is not None and task != own:
        raise ValueError(f"--task {task} does not fit suite {suite}, whose datasets are {own} ones; "
                         f"name tables with pmlb:NAME,... to state their task")


def _pmlb_names(names, cache: Path, download: bool, task: str | None = None, notes: list | None = None) -> list:
    import pmlb

    classification = set(pmlb.classification_dataset_names)
    regression = set(pmlb.regression_dataset_names)
    known = set(pmlb.dataset_names) | classification | regression
    for name in names:
        if name not in known and not pmlb_cached(cache, name):
            raise ValueError(f"unknown PMLB dataset {name!r}{pmlb_name_hint(name)}")
    missing = [name for name in names if not pmlb_cached(cache, name)]
    if missing and download:
        _download(missing, cache)
    elif missing:
        raise FileNotFoundError(f"PMLB dataset{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                                f"{'are' if len(missing) > 1 else 'is'} not in the cache folder '{cache}'; "
                                f"point --pmlb-cache or $SRNET_PMLB_CACHE at a folder that has "
                                f"<name>/<name>.tsv.gz, or add --download to fetch them there")
    notes = [] if notes is None else notes
    entries = []
    for name in names:
        listed = "classification" if name in classification else "regression" if name in regression else None
        if task is not None:  # the user's word, if the labels allow it
            labels = _labels(cache, name)
            check_task(labels, task, f"PMLB dataset {name!r}")
            if listed is not None and listed != task:
                # (a regression target run as classes: 228_elusage's 55 rows made 52 classes, unsaid)
                classes = (f" ({len(np.unique(labels))} classes on {len(labels)} rows)" if task == "classification"
                           else "")
                notes.append(f"{name}: run as {task} (--task){classes}; PMLB lists it as {listed}")
            chosen = task
        elif listed is not None:
            chosen = listed
            if listed == "regression":
                distinct = np.unique(_labels(cache, name))
                if len(distinct) == 2:  # PMLB lists banana and titanic (-1/1 labels) as regression
                    notes.append(f"{name}: PMLB lists it as regression, but its target holds only 2 values "
                                 f"({distinct[0]:g}, {distinct[1]:g}); add --task classification to run it "
                                 f"as a classification")
        else:
            chosen, why = guess_task(_labels(cache, name))
            notes.append(f"{name}: not in PMLB's lists; guessed {chosen} from its labels ({why}); "
                         f"state it with --task")
        entries.append((name, "pmlb", name, chosen))
    return entries


def _download(names, cache: Path) -> None:
    import pmlb

    cache.mkdir(parents=True, exist_ok=True)
    for name in names:
        try:
            pmlb.fetch_data(name, local_cache_dir=str(cache))
        except Exception as error:  # noqa: BLE001 - urllib, HTTP and pandas errors alike
            raise FileNotFoundError(f"could not download PMLB dataset {name!r} into '{cache}': {error}") from None


def _labels(cache: Path, name: str) -> np.ndarray:
    """The target column of a cached PMLB table, rows with a missing label left out."""
    import pandas as pd

    from srnet.data import PMLB_TARGET, UNREADABLE

    path = cache / name / f"{name}.tsv.gz"
    try:
        column = pd.read_csv(path, sep="\t", usecols=[PMLB_TARGET])[PMLB_TARGET]
    except (*UNREADABLE, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise ValueError(f"the cached PMLB table '{path}' cannot be read (damaged?): {type(error).__name__}: "
                         f"{error}; delete it or put an intact copy there") from None
    return column.dropna().to_numpy()


# ------------------------------------------------------------ benchmarks


def _nguyen(names) -> list[tuple]:
    from srnet.benchmarks import NGUYEN

    chosen = list(NGUYEN) if names is None else list(dict.fromkeys(n.lower() for n in names))  # Nguyen-1 is nguyen-1
    for name in chosen:
        if name not in NGUYEN:
            close = difflib.get_close_matches(name, list(NGUYEN), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(f"unknown Nguyen benchmark {name!r}{hint} (valid: nguyen-1 .. nguyen-12)")
    return [(name, "nguyen", name, "regression") for name in chosen]


def _gecco(names, gecco_dir, cache: Path, limit) -> list[tuple]:
    if gecco_dir is None:
        gecco_dir = os.environ.get(GECCO_DIR_ENV)
    if not gecco_dir:
        raise FileNotFoundError(f"suite srnet-gecco needs the reference networks' folder: pass --gecco-dir "
                                f"(e.g. ../shared/srnet_gecco) or set ${GECCO_DIR_ENV}")
    root = Path(gecco_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"the reference networks' folder '{root}' does not exist")
    found = {}
    for task in ("regression", "classification"):
        folder = root / task
        if folder.is_dir():
            for net in sorted(folder.iterdir()):
                if (net / "nn_module.pt").is_file():
                    found[net.name] = (task, net)
    if not found:
        raise FileNotFoundError(f"'{root}' holds no reference networks (regression/<name>/nn_module.pt or "
                                f"classification/<name>/nn_module.pt)")
    chosen = list(found) if names is None else list(names)
    for name in chosen:
        if name not in found:
            close = difflib.get_close_matches(name, list(found), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(f"unknown reference network {name!r}{hint} (in '{root}': {', '.join(found)})")
    for name in chosen[:limit]:  # resolve_suite keeps only the first ``limit``: only those need data
        task, folder = found[name]
        if task == "classification" and not (folder / "train.txt.gz").is_file() and not pmlb_cached(cache, name):
            raise FileNotFoundError(f"reference network {name!r} ships no data and its PMLB table is not in "
                                    f"'{cache}': point --pmlb-cache or $SRNET_PMLB_CACHE at a PMLB cache, or "
                                    f"leave it out (srnet-gecco:NAME,...)")
    return [(f"gecco-{name}", "gecco", str(found[name][1].resolve()), found[name][0]) for name in chosen]
