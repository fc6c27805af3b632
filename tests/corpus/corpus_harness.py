"""Runs corpus jobs in worker processes, each in its own process group, within bounds.

A worker (``corpus_runner.py``) runs a list of jobs in turn. This side watches it:
the resident memory of its whole process group (polled every few milliseconds) and
the time of its current job. A job over the time or memory bound has its worker's
group killed; the job is recorded as failed and a new worker takes the remaining
jobs. Memory is watched, not capped with ``RLIMIT_AS``: numba and dask reserve
address space they never touch (a normal ``fairly qc`` has ~1 GB of address space
for ~300 MB resident), and a cap would turn an allocation bomb into a MemoryError
that a reader may report as an ordinary "cannot be read", hiding it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

RUNNER = Path(__file__).with_name("corpus_runner.py")
TIME_LIMIT_S = 30.0
MEMORY_LIMIT_MIB = 1024.0
POLL_S = 0.01


def case_jobs(
    case: Any, built: Path, folder: Path, places: dict[str, str]
) -> list[dict[str, Any]]:
    """The jobs of one case: each of its entry points on what was built.

    ``places`` fills the command templates: ``raw`` (a real acquisition), ``form``
    (a complete form made for it), ``shared`` (a folder the worker may keep
    things in).
    """
    jobs = []
    for entry in case.codes:
        work = folder / entry.replace(" ", "_").replace("/", "_")
        job: dict[str, Any] = {
            "id": f"{case.name}:{entry}",
            "path": os.fsdecode(built),
            "work": str(work),
            "shared": places["shared"],
        }
        template = case.commands.get(entry)
        if template is None:
            job["entry"] = entry
        else:
            fill = {**places, "path": os.fsdecode(built), "work": str(work)}
            words = [w.format(**fill) for w in template]
            if words[0] == "|":
                job["entry"] = "shell"
                job["shell"] = _shell_line(words[1:])
            else:
                job["entry"] = "cli"
                job["argv"] = words
        jobs.append(job)
    return jobs


def _shell_line(words: list[str]) -> str:
    """``fairly`` with ``words``; words starting with ``|`` or ``>`` are the shell's.

    The command's own exit code is returned (``PIPESTATUS``), not the pipe's end.
    """
    import shlex

    command = [sys.executable, "-m", "napari_fairly.cli"]
    parts = [shlex.quote(w) for w in command]
    for word in words:
        parts.append(word if word[:1] in "|>" else shlex.quote(word))
    return " ".join(parts) + "; exit ${PIPESTATUS[0]}"


@dataclass
class Outcome:
    """What one job did, or how it was stopped."""

    id: str
    code: int | None = None
    said: str = ""
    error: str = ""
    stdout: str = ""
    stdout_chars: int = 0
    stderr: str = ""
    seconds: float = 0.0
    peak_mib: float = 0.0
    killed: str = ""  # "time" or "memory" when the harness stopped it

    @classmethod
    def of(cls, record: dict[str, Any]) -> Outcome:
        record = dict(record)
        record["id"] = record.pop("done")
        return cls(**record)


@dataclass
class _Worker:
    jobs: list[dict[str, Any]]
    results: Path
    proc: subprocess.Popen[bytes] | None = None
    seen: int = 0  # lines of ``results`` read so far
    current: str | None = None
    started: float = 0.0
    peak_mib: float = 0.0
    done: dict[str, Outcome] = field(default_factory=dict)


def _group_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its children."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def _start(worker: _Worker, env: dict[str, str], folder: Path) -> None:
    pending = [j for j in worker.jobs if j["id"] not in worker.done]
    jobs_file = folder / f"jobs-{os.getpid()}-{time.monotonic_ns()}.json"
    jobs_file.write_text(json.dumps(pending), encoding="utf-8")
    worker.proc = subprocess.Popen(
        [sys.executable, str(RUNNER), str(jobs_file), str(worker.results)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: killed as a whole
    )
    worker.current = None


def _read(worker: _Worker) -> None:
    lines = worker.results.read_text(encoding="utf-8").splitlines()
    for line in lines[worker.seen :]:
        if not line.endswith("}"):
            break  # being written
        worker.seen += 1
        record = json.loads(line)
        if "start" in record:
            worker.current, worker.started = record["start"], time.monotonic()
            worker.peak_mib = 0.0
        else:
            outcome = Outcome.of(record)
            outcome.peak_mib = max(outcome.peak_mib, worker.peak_mib)
            worker.done[outcome.id] = outcome
            worker.current = None


def _kill(worker: _Worker, why: str) -> None:
    assert worker.proc is not None
    with _suppress():
        os.killpg(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait()
    if worker.current is not None:
        worker.done[worker.current] = Outcome(
            worker.current,
            killed=why,
            seconds=round(time.monotonic() - worker.started, 3),
            peak_mib=round(worker.peak_mib, 1),
        )
    worker.current = None


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


def run_jobs(
    groups: list[list[dict[str, Any]]],
    folder: Path,
    env: dict[str, str],
    workers: int = 2,
) -> dict[str, Outcome]:
    """Run each group of jobs in a worker process, ``workers`` at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    queue = list(groups)
    active: list[_Worker] = []
    finished: dict[str, Outcome] = {}
    while queue or active:
        while queue and len(active) < workers:
            worker = _Worker(
                queue.pop(0),
                folder / f"results-{len(finished)}-{time.monotonic_ns()}.jsonl",
            )
            worker.results.touch()
            _start(worker, env, folder)
            active.append(worker)
        time.sleep(POLL_S)
        for worker in list(active):
            assert worker.proc is not None
            _read(worker)
            if worker.current is not None:
                rss = _group_rss_mib(worker.proc.pid)
                worker.peak_mib = max(worker.peak_mib, rss)
                if rss > MEMORY_LIMIT_MIB:
                    _kill(worker, "memory")
                elif time.monotonic() - worker.started > TIME_LIMIT_S:
                    _kill(worker, "time")
            if worker.proc.poll() is None:
                continue
            _read(worker)
            if worker.current is not None:  # died in a job by itself
                worker.done[worker.current] = Outcome(
                    worker.current, killed=f"died ({worker.proc.returncode})"
                )
                worker.current = None
            left = [j for j in worker.jobs if j["id"] not in worker.done]
            if left:
                _start(worker, env, folder)
                continue
            finished.update(worker.done)
            active.remove(worker)
    return finished
