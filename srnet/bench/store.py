"""The result folder of a batch: atomic result files, resume, corruption checks.

Layout of ``DIR``::

    batch.json                      the manifest: the settings every result shares, each run, and every job
                                    a run planned (its dataset, method, seed, task and kind, by job id)
    results/<job id>.json           one file per finished job (ok or failed)
    corrupt/<job id>.json.<stamp>   result files that failed their check, kept aside

A result file is ``{"schema", "sha256", "payload"}`` where ``sha256`` is the
SHA-256 of the payload's canonical JSON (sorted keys, no spaces).  A file is
valid only when it parses, its hash matches, and its payload names the job
its file name says; a truncated or edited file is therefore detected, moved
to ``corrupt/`` and the job redone, never counted.

Every write goes to a temporary file in the same folder, is flushed and
fsynced, then renamed over the target (``os.replace``, atomic on POSIX), and
the folder is fsynced: a reader sees the old file or the new one, never half
of one.  Only the client writes; workers return payloads.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from srnet.bench.suites import BatchSettings, JobSpec
from srnet.bench.suites import job_id as job_id_of
from srnet.jsonio import TEMPORARY_PREFIX, atomic_write_text, dumps, finite_or_none, parse_json

RESULT_SCHEMA = "srnet.bench.result/1"
MANIFEST_SCHEMA = "srnet.bench.batch/1"
STATUSES = ("ok", "failed")
#: What a result must share with its job beyond the job id.  Not the source:
#: for the paper's networks it is the folder's path, and a moved folder must
#: still resume.
_MADE_FOR = ("task", "kind")


class CorruptResult(ValueError):
    """A result file that does not pass its integrity check."""


class OtherSettings(ValueError):
    """A valid result file made with other settings (or for another task or kind) than its job's."""

    def __init__(self, path: Path, differences: str):
        super().__init__(f"'{path}' was made with other settings ({differences})")
        self.path, self.differences = path, differences


def canonical_json(payload) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(payload) -> str:
    return hashlib.sha256(canonical_json(payload).encode("ascii")).hexdigest()


def seal(payload: dict) -> dict:
    """The file content for ``payload``: schema, hash, payload."""
    return {"schema": RESULT_SCHEMA, "sha256": digest(payload), "payload": payload}


def check_result(document, expected_id: str | None = None) -> dict:
    """The payload of a parsed result file, or :class:`CorruptResult`."""
    if not isinstance(document, dict) or document.get("schema") != RESULT_SCHEMA:
        raise CorruptResult("not an srnet bench result (schema missing or unknown)")
    payload = document.get("payload")
    if not isinstance(payload, dict):
        raise CorruptResult("no payload")
    if document.get("sha256") != digest(payload):
        raise CorruptResult("SHA-256 mismatch: the payload was changed or damaged")
    job = payload.get("job")
    if not isinstance(job, dict) or payload.get("status") not in STATUSES:
        raise CorruptResult("payload without a job identity or a valid status")
    if expected_id is not None and job.get("id") != expected_id:
        raise CorruptResult(f"payload is job {job.get('id')!r}, not {expected_id!r}")
    # the shape the report reads (a resealed hand edit, or another writer's file, was a traceback there)
    if not (isinstance(job.get("dataset"), str) and isinstance(job.get("method"), str)
            and isinstance(job.get("seed"), int) and not isinstance(job.get("seed"), bool)):
        raise CorruptResult("job without a dataset, method and seed")
    own = job_id_of(job["dataset"], job["method"], job["seed"])
    if job.get("id") != own:  # resume skipped the job its id names, and the report counted the one its fields name
        raise CorruptResult(f"payload is job {own!r} by its dataset, method and seed, not {job.get('id')!r}")
    for key in ("error", "data", "network", "metrics", "timings", "settings", "formulas"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            raise CorruptResult(f"'{key}' is a {type(payload[key]).__name__}, not an object")
    return payload


def read_result(path: Path) -> dict:
    """The payload of the result file at ``path``.

    Raises
    ------
    CorruptResult
        Unreadable, not JSON (e.g. truncated), wrong hash, or a payload of
        another job than the file name says.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CorruptResult(f"unreadable: {error}") from None
    try:  # truncated; also nested past Python's stack, or a number past its digit limit (no JSONDecodeError)
        document = parse_json(text, "result")
    except ValueError as error:
        raise CorruptResult(str(error)) from None
    return check_result(document, expected_id=path.name[:-len(".json")])


@dataclass
class Plan:
    """What a run over a job list has to do in a result folder."""

    todo: list[JobSpec]
    done: list[str] = field(default_factory=list)  # valid "ok" results, skipped
    failed_kept: list[str] = field(default_factory=list)  # valid "failed" results, skipped (no --retry-failed)
    retried: list[str] = field(default_factory=list)  # failed results to redo (--retry-failed)
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (job id, why): moved aside, redone

    def describe(self) -> str:
        parts = [f"{len(self.todo)} to run", f"{len(self.done)} already done"]
        if self.failed_kept:
            parts.append(f"{len(self.failed_kept)} failed before (kept; --retry-failed redoes them)")
        if self.retried:
            parts.append(f"{len(self.retried)} failed before, retried")
        if self.corrupt:
            parts.append(f"{len(self.corrupt)} corrupt, redone")
        return ", ".join(parts)


class NotABatchManifest(ValueError):
    """The folder's batch.json is JSON, but not an srnet batch manifest."""


class ResultStore:
    """The result folder ``root`` of a batch (see the module docstring)."""

    def __init__(self, root):
        self.root = Path(root)
        self.results = self.root / "results"
        self.corrupt = self.root / "corrupt"
        self.manifest_path = self.root / "batch.json"

    @contextlib.contextmanager
    def lock(self):
        """Hold the folder for one batch at a time (``DIR/.lock``, released even on SIGKILL).

        Raises
        ------
        ValueError
            When another process holds it.
        """
        for name, folder in (("results", True), ("corrupt", True), (".lock", False)):
            path = self.root / name  # a file where a folder goes (or the reverse): one line, before any write
            if path.exists() and path.is_dir() != folder:
                raise ValueError(f"'{path}' is a {'file' if folder else 'folder'}, where srnet bench keeps its "
                                 f"{'folder' if folder else 'lock file'}; move it away or use another --out")
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise ValueError(f"'{self.root}' is in use by another srnet bench (pid {holder}); wait for it to "
                                 f"finish, or use another --out folder") from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def holder(self) -> str | None:
        """The pid of the srnet bench that holds the folder now (see :meth:`lock`), or None when none does."""
        try:
            with open(self.root / ".lock") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    return handle.read().strip() or "unknown"
                fcntl.flock(handle, fcntl.LOCK_UN)
        except OSError:  # no lock file: never run, or an older srnet's folder
            return None
        return None

    def path(self, job_id: str) -> Path:
        return self.results / f"{job_id}.json"

    # -------------------------------------------------------------- writes

    def write(self, payload: dict) -> Path:
        """Seal and atomically write a job's payload; returns its path."""
        path = self.path(payload["job"]["id"])
        payload = finite_or_none(payload)  # valid JSON whatever the job returned (NaN, inf: null)
        atomic_write_text(path, json.dumps(seal(payload), indent=1, sort_keys=True, allow_nan=False) + "\n")
        return path

    def quarantine(self, job_id: str) -> Path | None:
        """Move a bad result file aside (``corrupt/``), so it is redone and not counted."""
        path = self.path(job_id)
        if not path.exists():
            return None
        self.corrupt.mkdir(parents=True, exist_ok=True)
        target = self.corrupt / f"{path.name}.{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        os.replace(path, target)
        return target

    def clean_temporaries(self) -> int:
        """Remove temporary files left by a writer that was killed mid-write."""
        removed = 0
        for folder in (self.root, self.results):
            if folder.is_dir():
                for leftover in folder.glob(f"{TEMPORARY_PREFIX}*"):
                    leftover.unlink(missing_ok=True)
                    removed += 1
        return removed

    # --------------------------------------------------------------- reads

    def _status(self, job: JobSpec) -> str | None:
        """``"ok"``, ``"failed"``, None (no file) -- or :class:`CorruptResult`.

        A job id names only dataset, method and seed, so the file's task and
        kind are checked too: ``pmlb:NAME`` run as classification and
        then with ``--task regression`` shares its ids, and must not reuse the
        classifier's results.
        """
        path = self.path(job.job_id)
        if not path.exists():
            return None
        payload = read_result(path)
        made = payload.get("settings")
        wanted = job.settings.to_dict()
        if not same_settings(made, wanted):
            raise OtherSettings(path, differences(made, wanted))
        wanted = {key: job.description()[key] for key in _MADE_FOR}
        made_for = {key: payload["job"].get(key) for key in _MADE_FOR}
        if made_for != wanted:
            raise OtherSettings(path, differences(made_for, wanted))
        return payload["status"]

    def plan(self, jobs, *, retry_failed: bool = False) -> Plan:
        """Sort ``jobs`` into skipped and to-do; corrupt files are moved aside now.

        Raises
        ------
        ValueError
            A valid result made with other settings than its job's (a folder
            whose manifest was removed or replaced), or for another task or
            kind than its job's.
        """
        plan = Plan(todo=[])
        others = []
        for job in jobs:
            try:
                status = self._status(job)
            except OtherSettings as error:  # all of them named, before anything is moved or written
                others.append(error)
                continue
            except CorruptResult as error:
                plan.corrupt.append((job.job_id, str(error)))
                plan.todo.append(job)
                continue
            if status == "ok":
                plan.done.append(job.job_id)
            elif status == "failed" and not retry_failed:
                plan.failed_kept.append(job.job_id)
            else:
                if status == "failed":
                    plan.retried.append(job.job_id)
                plan.todo.append(job)
        if others:
            shown = "; ".join(f"{e.path.name} ({e.differences})" for e in others[:3])
            more = f"; and {len(others) - 3} more" if len(others) > 3 else ""
            raise ValueError(f"{len(others)} result file(s) in '{self.results}' made with other settings than "
                             f"this batch's: {shown}{more}; use another --out folder, or move those files "
                             f"away to redo them")
        for job_id, _ in plan.corrupt:
            self.quarantine(job_id)
        return plan

    def load_all(self) -> tuple[list[dict], list[tuple[Path, str]]]:
        """Every valid payload in ``results/`` (sorted by file name), and the
        corrupt files with the reason (left in place)."""
        payloads, corrupt = [], []
        if not self.results.is_dir():
            return payloads, corrupt
        for path in sorted(self.results.glob("*.json")):
            try:
                payloads.append(read_result(path))
            except CorruptResult as error:
                corrupt.append((path, str(error)))
        return payloads, corrupt

    # ------------------------------------------------------------ manifest

    def read_manifest(self) -> dict | None:
        """The folder's manifest, or None when it has none.

        Raises
        ------
        ValueError
            Unreadable, or not an srnet batch manifest: another schema, or
            without its settings (a dict) and runs (a list of dicts), which
            resuming and the report read, or with planned jobs that are not
            a dict of dicts (a manifest of an older srnet has none).
        """
        if not self.manifest_path.exists():
            return None
        try:
            manifest = parse_json(self.manifest_path.read_text(encoding="utf-8"), "manifest")
        except (OSError, ValueError) as error:  # UnicodeDecodeError is a ValueError
            raise ValueError(f"'{self.manifest_path}' is unreadable ({error}); move it away to start over "
                             f"(the results are checked one by one anyway)") from None
        if not (isinstance(manifest, dict) and manifest.get("schema") == MANIFEST_SCHEMA
                and isinstance(manifest.get("settings"), dict) and isinstance(manifest.get("runs"), list)
                and all(isinstance(run, dict) for run in manifest["runs"])
                and isinstance(manifest.get("jobs", {}), dict)
                and all(isinstance(job, dict) for job in manifest.get("jobs", {}).values())):
            raise NotABatchManifest(f"'{self.manifest_path}' is not an srnet batch manifest")
        return manifest

    def check_batch(self, settings: BatchSettings) -> dict:
        """The folder's manifest for a batch of ``settings`` (a new one for a
        new folder, or for one that holds no result yet), checked; nothing
        is written (:meth:`open_batch` does, once the results are checked too).

        Raises
        ------
        ValueError
            When the folder holds results of different settings: naming the
            differences and how to proceed.
        """
        wanted = settings.to_dict()
        try:
            manifest = self.read_manifest()
        except NotABatchManifest as error:
            # beside results, a damaged manifest of this batch: "choose another --out" abandoned them, though each
            # result is checked on its own (as after an unreadable one); without any, someone else's file
            if any(self.results.glob("*.json")):
                raise ValueError(f"{error}; move it away to resume (the results are checked one by one "
                                 f"anyway)") from None
            raise ValueError(f"{error}; choose another --out") from None
        if manifest is None:  # its results say what they were made with (a manifest removed or lost)
            others = [p for p in self.load_all()[0] if not same_settings(p.get("settings"), wanted)]
            if others:
                raise ValueError(f"'{self.root}' has no batch.json and {len(others)} result(s) made with other "
                                 f"settings ({differences(others[0].get('settings'), wanted)}); use another "
                                 f"--out folder, or repeat their settings to resume it")
            return {"schema": MANIFEST_SCHEMA, "settings": wanted, "runs": []}
        if not same_settings(manifest["settings"], wanted):
            if not any(self.results.glob("*.json")):  # a first run killed before any result: nothing to keep
                # (nor its planned jobs: a batch of other settings, not this one's jobs without a result)
                return {**manifest, "settings": wanted, "jobs": {}}
            raise ValueError(f"'{self.root}' holds results made with other settings "
                             f"({differences(manifest['settings'], wanted)}); use another --out "
                             f"folder, or repeat the folder's settings to resume it")
        return manifest

    def open_batch(self, manifest: dict, run: dict | None, jobs=()) -> None:
        """Write ``manifest`` (from :meth:`check_batch`) with this run recorded (None: no run), and the jobs it
        plans (``jobs``, JobSpecs) among the batch's planned jobs.

        Why the jobs: the report reads each job's task there, and every planned job without a result.  From the
        results alone, a damaged result of a dataset without a counted one took "the batch's one task", wrong
        for a pmlb: suite of classifications and regressions; and a job that an interrupted run left undone
        vanished from the report once a later run planned fewer jobs.

        NumPy figures are written as plain numbers: settings or a worker count built from NumPy values was a
        TypeError here, after the cluster had started."""
        self.results.mkdir(parents=True, exist_ok=True)
        if run is not None:
            manifest["runs"].append(run)
        if jobs:
            manifest.setdefault("jobs", {}).update({job.job_id: planned_job(job) for job in jobs})
        atomic_write_text(self.manifest_path, dumps(manifest, indent=1) + "\n")

    def check_writable(self) -> None:
        """Refuse, in one line, a folder whose results/ or batch.json cannot be written: before the cluster
        starts and any job runs (the first job trained and searched, then its result was lost with the batch)."""
        self.results.mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.results):
            try:
                handle, probe = tempfile.mkstemp(prefix=f"{TEMPORARY_PREFIX}check-", dir=folder)
                os.close(handle)
                os.unlink(probe)
            except OSError as error:
                raise ValueError(f"'{folder}' is not writable ({error.strerror or error}): no result could be "
                                 f"kept; make it writable, or use another --out folder") from None

    def close_batch(self, started_at: str, outcome: dict) -> None:
        """Add what a run did (``outcome``: finished_at, seconds, ok, failed, ...) to its manifest record."""
        manifest = self.read_manifest()
        for run in reversed(manifest["runs"]):
            if run.get("started_at") == started_at:
                run.update(outcome)
                break
        atomic_write_text(self.manifest_path, dumps(manifest, indent=1) + "\n")


def planned_job(job: JobSpec) -> dict:
    """What the manifest records of a planned job: its description without its id (the record's key) and its
    source (a reference network's folder: a moved folder must still resume)."""
    return {key: value for key, value in job.description().items() if key not in ("id", "source")}


def same_settings(have, want: dict) -> bool:
    """Whether two settings dicts name one batch: equal, the explainers in any
    order (a folder of an older srnet keeps the order they were named in)."""
    if not isinstance(have, dict):
        return False

    def canonical(settings):
        explainers = settings.get("explainers")
        return {**settings, "explainers": sorted(explainers) if isinstance(explainers, list) else explainers}

    return canonical(have) == canonical(want)


#: The command-line option of each batch setting srnet bench takes (the others, such as steps, keep their names).
SETTING_OPTIONS = {"seconds": "--seconds", "generations": "--generations", "explainers": "--explainers",
                   "hidden": "--hidden", "activation": "--activation", "epochs": "--epochs",
                   "early_stopping": "--early-stopping", "max_rows": "--max-rows", "n_points": "--points"}


def differences(have, want: dict, words=("folder", "now")) -> str:
    """The settings that differ, ``"key: folder A, now B; ..."`` (``words`` name the two sides; ``have``
    that is not a dict, a hand-edited file's, counts as none)."""
    have = have if isinstance(have, dict) else {}
    keys = sorted(set(have) | set(want))
    # by the option a user gives (--points 50 read "n_points: folder 1000, now 50")
    parts = [f"{SETTING_OPTIONS.get(key, key)}: {words[0]} {setting_text(have.get(key))}, {words[1]} "
             f"{setting_text(want.get(key))}" for key in keys if have.get(key) != want.get(key)]
    return "; ".join(parts)


def setting_text(value) -> str:
    """A setting as a person reads it: ``unset``, ``[lime, maple]``, ``'regression'`` (was Python's repr:
    ``None``, ``['lime', 'maple']``)."""
    if value is None:
        return "unset"
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(str(v) for v in value)}]"
    return repr(value)
