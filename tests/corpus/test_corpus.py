"""The bad-input corpus through every entry point: one clear answer, nothing changed.

Each case (``corpus_cases.py``) is built in a temporary folder and run through its
entry points in worker processes (``corpus_harness.py``), each job within 30 s and
1 GiB of resident memory. A job passes when it

- ends with an exit code the case allows (the README's table: bad file 2, hostile
  form value 1; the core and the reader: the code of the error they raise);
- says so in one line: no traceback, and for a refused file (2) exactly one line on
  stderr that names the command (the core and the reader: an error message);
- leaves what it was given as it was (bytes, size and modification time of every
  file of the case, and the real acquisition the form cases use).

The default run takes :data:`QUICK` (a case of each kind through every entry
point); ``FAIRLY_CORPUS=full`` runs all of them (the closing numbers of the issue),
``FAIRLY_CORPUS=NAME,NAME`` the cases named.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import corpus_cases
import corpus_harness

# "full": every case; a comma-separated list of case names: those only
ASKED = os.environ.get("FAIRLY_CORPUS", "")
FULL = ASKED == "full"
# one or more of each kind and of each kind of entry point: bombs, contradictions,
# damage, paths, forms, values, command lines (about a minute on two cores)
QUICK = {
    "ome-tiff-last-byte",
    "ome-size-c-1",
    "ome-size-c-5",
    "ome-size-z-1e9",
    "czi-directory-z",
    "tiff-100000",
    "zarr-3x1e7x1e7",
    "zarr-chunk-short-raw",
    "dv-huge-header",
    "czi-truncated-90",
    "csv-injection",
    "fifo",
    "name-over-255",
    "symlink-loop",
    "form-invalid-utf8",
    "form-deep",
    "form-fifo",
    "form-nul",
    "set-latin1",
    "set-formula",
    "cli-outputs",
}
CASES = [
    c
    for c in corpus_cases.cases()
    if FULL or c.name in (ASKED.split(",") if ASKED else QUICK)
]
SRC = Path(__file__).resolve().parents[2] / "src"


def _fingerprint(path: Path) -> Any:
    """What must not change: kind, and for files bytes, size and mtime, per file."""
    try:
        status = path.lstat()
    except OSError as err:
        return ("absent", err.errno)
    if stat.S_ISLNK(status.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(status.st_mode):
        return (
            "folder",
            sorted(
                (str(p.relative_to(path)), _fingerprint(p))
                for p in path.rglob("*")
                if "work" not in p.relative_to(path).parts[:1]
            ),
        )
    if not stat.S_ISREG(status.st_mode):
        return ("special", stat.S_IFMT(status.st_mode))
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return ("file", digest.hexdigest(), status.st_size, status.st_mtime_ns)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every selected case built and run; outcomes by job id, fingerprints by case."""
    root = tmp_path_factory.mktemp("corpus")
    shared = root / "shared"
    shared.mkdir()
    form = shared / "form.json"
    import json

    form.write_text(json.dumps(corpus_cases.good_form()), encoding="utf-8")
    raw = corpus_cases.DATA / corpus_cases.RAW
    places = {"raw": str(raw), "form": str(form), "shared": str(shared)}
    groups: list[list[dict[str, Any]]] = []
    built: dict[str, Path] = {}
    before: dict[str, Any] = {}
    for case in CASES:
        folder = root / "cases" / case.name
        folder.mkdir(parents=True)
        path = case.build(folder)
        built[case.name] = path
        before[case.name] = _fingerprint(path)
        groups.append(
            corpus_harness.case_jobs(case, path, root / "work" / case.name, places)
        )
    before["raw"] = _fingerprint(raw)
    config = root / "config"
    config.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "CORPUS_DATA": str(corpus_cases.DATA),
        "CORPUS_TMP": str(shared),
        "FAIRLY_LANG": "en",
        "FAIRLY_CONFIG_DIR": str(config),
    }
    env.pop("FAIRLY_DEBUG", None)
    outcomes = corpus_harness.run_jobs(groups, root / "runs", env)
    after = {name: _fingerprint(path) for name, path in built.items()}
    after["raw"] = _fingerprint(raw)
    problems = {
        job_id: _problem(outcome, _case(job_id), built[_case(job_id).name])
        for job_id, outcome in outcomes.items()
    }
    summary = _summary(outcomes, problems)
    (root / "summary.txt").write_text(summary, encoding="utf-8")
    print(summary)
    return {
        "outcomes": outcomes,
        "problems": problems,
        "before": before,
        "after": after,
    }


def _case(job_id: str) -> corpus_cases.Case:
    name = job_id.partition(":")[0]
    return next(c for c in CASES if c.name == name)


def _problem(outcome: corpus_harness.Outcome, case: Any, built: Path) -> str | None:
    """Why a job's answer is wrong, or None when it is one of the right ones."""
    entry = outcome.id.partition(":")[2]
    if outcome.killed:
        return (
            f"stopped: {outcome.killed} ({outcome.seconds} s, {outcome.peak_mib} MiB)"
        )
    if outcome.code == -1 or outcome.error:
        return "an exception escaped: " + outcome.error.strip().splitlines()[-1]
    if outcome.code not in case.codes[entry]:
        return (
            f"exit {outcome.code}, expected {sorted(case.codes[entry])}: "
            f"{(outcome.said or outcome.stderr).strip()[-300:]}"
        )
    if "Traceback" in outcome.stderr or "Traceback" in outcome.stdout:
        return "a traceback was printed: " + outcome.stderr.strip()[-300:]
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    if outcome.code == 2:
        if entry in ("core", "reader"):
            if not outcome.said.strip():
                return "refused without a message"
        else:  # our notes printed before the refusal may stay
            said = [line for line in lines if not line.startswith("note: ")]
            if len(said) != 1 or not said[0].startswith("fairly "):
                return f"{len(said)} lines on stderr, expected one: {said[:4]}"
    if outcome.code == 1 and not (lines or outcome.stdout.strip()):
        return "a verdict without a message"
    if outcome.stdout_chars > 100_000:
        return f"{outcome.stdout_chars:,} characters on stdout"
    return None


def _summary(
    outcomes: dict[str, corpus_harness.Outcome], problems: dict[str, str | None]
) -> str:
    handled = sum(1 for p in problems.values() if p is None)
    peak = max((o.peak_mib for o in outcomes.values()), default=0.0)
    slowest = max((o.seconds for o in outcomes.values()), default=0.0)
    lines = [
        f"corpus: {len(CASES)} cases, {len(outcomes)} jobs (case x entry point), "
        f"{handled} handled; peak {peak:.0f} MiB, slowest {slowest:.1f} s"
    ]
    lines += [f"  {job}: {why}" for job, why in sorted(problems.items()) if why]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_answered_clearly_within_bounds(
    corpus: dict[str, Any], case: corpus_cases.Case
) -> None:
    jobs = [job for job in corpus["outcomes"] if job.partition(":")[0] == case.name]
    assert sorted(j.partition(":")[2] for j in jobs) == sorted(case.codes)
    wrong = {job: corpus["problems"][job] for job in jobs if corpus["problems"][job]}
    assert wrong == {}
    for job in jobs:
        outcome = corpus["outcomes"][job]
        assert outcome.peak_mib < corpus_harness.MEMORY_LIMIT_MIB
        assert outcome.seconds < corpus_harness.TIME_LIMIT_S


@pytest.mark.slow
def test_inputs_unchanged(corpus: dict[str, Any]) -> None:
    """Nothing the corpus was given was written to, the real acquisition included."""
    changed = [k for k in corpus["before"] if corpus["before"][k] != corpus["after"][k]]
    assert changed == []
