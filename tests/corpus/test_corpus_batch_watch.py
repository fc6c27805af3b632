"""The bad-input corpus through ``fairly batch`` and ``fairly watch``.

Every file case of ``corpus_cases.py`` (the cases the corpus runs through ``fairly
save``) is built in a folder of its own; then

- one ``fairly batch`` over all of them (and a real acquisition) must end with exit
  4, one report row per item, each item saved when the case allows a save (exit 0)
  and failed with a message otherwise, its error of a kind whose exit code the case
  allows (the README's table), without a traceback, within a time bound;
- a running ``fairly watch`` receives them one by one: it must answer each complete
  file once in its state file, keep running through all of them, and stop cleanly
  on Ctrl-C with exit 4.

Nothing given may change, and no temporary folder may be left. The corpus lives in
``tests/corpus/corpus_cases.py``; without it these tests are skipped.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
corpus_cases: Any = pytest.importorskip(
    "corpus_cases",
    reason="the bad-input corpus (tests/corpus/corpus_cases.py) is not here",
)

SRC = Path(__file__).resolve().parents[2] / "src"
BATCH_SECONDS = 900  # the whole corpus, on two shared cores
# the exit code of the README's table for each error kind of the report
KIND_CODE = {"unreadable": 2, "error": 2, "output": 2, "form": 1, "qc_not_accepted": 3}


def _file_cases() -> list[Any]:
    """The cases that are acquisition files (those ``fairly save`` is given)."""
    return [c for c in corpus_cases.cases() if "save" in c.codes]


def _sample(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "", name)


def _fingerprint(path: Path) -> Any:
    """What must not change: kind, and for files bytes, size and mtime."""
    try:
        status = path.lstat()
    except OSError as err:
        return ("absent", err.errno)
    if stat.S_ISLNK(status.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(status.st_mode):
        return ("folder", sorted((p.name, _fingerprint(p)) for p in path.iterdir()))
    if not stat.S_ISREG(status.st_mode):
        return ("special", stat.S_IFMT(status.st_mode))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ("file", digest, status.st_size, status.st_mtime_ns)


def _build(src: Path) -> dict[str, tuple[Any, Path]]:
    """Each file case built in ``src/<case>``: case and built path, by case name."""
    built = {}
    for case in _file_cases():
        folder = src / case.name
        folder.mkdir(parents=True)
        built[case.name] = (case, case.build(folder))
    return built


def _env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "FAIRLY_LANG": "en",
        "FAIRLY_CONFIG_DIR": str(config),
    }
    env.pop("FAIRLY_DEBUG", None)
    return env


def _values() -> list[str]:
    return list(corpus_cases.set_args(*corpus_cases.FORM_VALUES))


def _manifest(path: Path, files: list[Path], samples: dict[Path, str]) -> Path:
    """A sample per file (the case's name), so that no two get the same name."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "sample"])
        for file in files:
            writer.writerow([file.relative_to(path.parent).as_posix(), samples[file]])
    return path


def _case_of(source: str, src: Path) -> str:
    return Path(source).relative_to(src.resolve()).parts[0]


def _wrong_answer(row: dict[str, str], codes: frozenset[int]) -> str | None:
    """Why a report row is not an answer the case allows, or None."""
    status, kind, error = row["status"], row["error_kind"], row["error"]
    if status == "saved":
        return None if 0 in codes else "saved, but the case must be refused"
    if status != "failed" or not error.strip():
        return f"status {status!r} with error {error!r}"
    if "Traceback" in error or kind == "unexpected":
        return f"an unexpected error: {error[-300:]}"
    if KIND_CODE.get(kind) not in codes:
        return f"{kind} (exit {KIND_CODE.get(kind)}), expected {sorted(codes)}: {error}"
    return None


@pytest.mark.slow
def test_corpus_through_fairly_batch(tmp_path: Path) -> None:
    from napari_fairly.core.batch import read_report
    from napari_fairly.core.batch.plan import walk_folder
    from napari_fairly.core.export import verify_dataset

    src, out = tmp_path / "src", tmp_path / "out"
    built = _build(src)
    before = _fingerprint(src)
    files = walk_folder(src)
    samples = {f: _sample(f.relative_to(src).parts[0]) for f in files}
    assert len(set(samples.values())) == len(samples)
    manifest = _manifest(tmp_path / "manifest.csv", files, samples)
    good = corpus_cases.DATA / corpus_cases.RAW
    command = [sys.executable, "-m", "napari_fairly.cli", "batch", str(src)]
    command += [str(good), "--out", str(out), "--manifest", str(manifest)]
    command += [*_values(), "--accept-qc-failures", "--workers", "2"]
    started = time.monotonic()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=BATCH_SECONDS,
        check=False,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 4, done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout
    rows = read_report(out / "batch_report.csv")
    good_rows = [r for r in rows if Path(r["source"]) == good.resolve()]
    assert [r["status"] for r in good_rows] == ["saved"]
    by_case: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if row is not good_rows[0]:
            by_case.setdefault(_case_of(row["source"], src), []).append(row)
    assert set(by_case) == {f.relative_to(src).parts[0] for f in files}
    wrong = {
        f"{name}: {row['source']}": why
        for name, case_rows in by_case.items()
        for row in case_rows
        if (why := _wrong_answer(row, built[name][0].codes["save"]))
    }
    assert wrong == {}, "\n".join(f"{k}: {v}" for k, v in sorted(wrong.items()))
    saved = [r for r in rows if r["status"] == "saved"]
    assert all(verify_dataset(Path(r["folder"])).ok for r in saved)
    assert sorted(p.name for p in out.rglob(".*.partial-*")) == []
    assert _fingerprint(src) == before
    print(f"corpus batch: {len(rows)} items, {len(saved)} saved, {seconds:.0f} s")


def _finished(out: Path) -> dict[str, dict[str, Any]]:
    from napari_fairly.core.batch import last_records

    return {k: r for k, r in last_records(out).items() if r.get("event") == "finished"}


def _waited_for(path: Path) -> bool:
    """Whether a watch waits for ``path`` and answers it: a regular file with bytes
    (an empty one or a pipe is a file still being written), or a ``.zarr`` folder."""
    from napari_fairly.core.reading import is_supported_suffix

    try:
        status = path.lstat()
    except OSError:
        return False
    if stat.S_ISDIR(status.st_mode):
        return path.name.lower().endswith(".zarr")
    return (
        stat.S_ISREG(status.st_mode)
        and status.st_size > 0
        and (is_supported_suffix(path))
    )


@pytest.mark.slow
def test_corpus_through_fairly_watch(tmp_path: Path) -> None:
    from napari_fairly.core.batch import STATE_FILE
    from napari_fairly.core.batch.watch import LOG_FILE

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    command = [sys.executable, "-m", "napari_fairly.cli", "watch", str(src)]
    command += ["--out", str(out), "--settle", "0.5", "--workers", "1"]
    command += [*_values(), "--accept-qc-failures"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    log = out / LOG_FILE
    expected: set[str] = set()
    cases: dict[str, Any] = {}
    given: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 120
        while not (log.is_file() and "watching" in log.read_text(encoding="utf-8")):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        for case in _file_cases():  # they arrive one after another
            folder = src / case.name
            folder.mkdir()
            path = case.build(folder)
            cases[case.name] = case
            given[case.name] = _fingerprint(folder)
            if path.parent == folder and _waited_for(path):
                expected.add(str(path.resolve()))
            time.sleep(0.2)
        deadline = time.monotonic() + BATCH_SECONDS
        answered: set[str] = set()
        while not expected <= answered and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1][-2000:]
            time.sleep(0.5)
            answered = {k.rsplit("#", 1)[0] for k in _finished(out)}
        assert sorted(expected - answered) == []
        assert process.poll() is None  # it went on after every bad file
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 4, stderr[-2000:]
    assert "Traceback" not in stderr + stdout
    records = _finished(out)
    lines = (out / STATE_FILE).read_text(encoding="utf-8").splitlines()
    finished = [line for line in lines if '"event": "finished"' in line]
    assert len(finished) == len(records)  # each answered once
    wrong = {}
    for key, record in records.items():
        name = _case_of(key.rsplit("#", 1)[0], src)
        row = {k: str(record.get(k) or "") for k in ("status", "error_kind", "error")}
        why = _wrong_answer(row, cases[name].codes["save"])
        if why:
            wrong[key] = why
    assert wrong == {}, "\n".join(f"{k}: {v}" for k, v in sorted(wrong.items()))
    assert sorted(p.name for p in out.rglob(".*.partial-*")) == []
    assert {name: _fingerprint(src / name) for name in given} == given
