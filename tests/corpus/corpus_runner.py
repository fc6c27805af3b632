"""Runs corpus jobs: ``python corpus_runner.py JOBS.json RESULTS.jsonl``.

Each job is one case through one entry point. Before a job a ``start`` line is
written to RESULTS, after it a ``done`` line with the exit code (the README's table;
for the core and the reader, the code of the error raised), what was printed on the
real stdout and stderr file descriptors (so C libraries' lines are seen too), the
time and the job's peak RSS. The parent kills this process group when a job runs out
of time or memory; the last ``start`` line without its ``done`` names the culprit.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

FORM_VALUES = [
    "naming.project=TNT",
    "naming.sample=Cells",
    "naming.creator=ALebon",
    "naming.condition=Controle",
    "study.title=Hostile inputs",
    "study.publisher=Test facility",
    "study.authors=Alice Lebon|0000-0002-1825-0097",
    "biosample.organism=Homo sapiens",
    "biosample.biological_entity=cultured cells",
    "image_acquisition.instrument=Test microscope",
    "study_component.imaging_method=fluorescence microscopy",
]


# for files that state no acquisition date
DATE_VALUES = [
    "naming.date=2024-01-15",
    "image_acquisition.acquisition_datetime=2024-01-15T10:00:00+01:00",
]
# every plane of a scene this small is read by the core entry point
READ_ALL_BYTES = 256 * 2**20


def _form_args(extra: list[str] | None = None) -> list[str]:
    out: list[str] = []
    for value in FORM_VALUES + (extra or []):
        out += ["--set", value]
    return out


def _peak_reset() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def _captured(folder: Path) -> Iterator[dict[str, str]]:
    """Stdout and stderr of this job, at the file descriptor level."""
    out: dict[str, str] = {}
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    files = folder / "stdout.txt", folder / "stderr.txt"
    handles = [open(f, "wb") for f in files]  # noqa: SIM115
    os.dup2(handles[0].fileno(), 1)
    os.dup2(handles[1].fileno(), 2)
    try:
        yield out
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        for handle in handles:
            handle.close()
        out["stdout"] = files[0].read_bytes().decode("utf-8", "replace")
        out["stderr"] = files[1].read_bytes().decode("utf-8", "replace")


def _cli(argv: list[str]) -> tuple[int, str]:
    from napari_fairly.cli import main

    try:
        return int(main(argv)), ""
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
        return code, ""


def _make_form(path: str, out: Path, extra: list[str] | None = None) -> int:
    """``fairly form`` with every required value; the date too when the file has
    none."""
    from napari_fairly.cli import main

    code = main(["form", path, *_form_args(extra), "--out", str(out)])
    if code == 1:
        values = [*DATE_VALUES, *(extra or [])]
        code = main(["form", path, *_form_args(values), "--out", str(out)])
    return code


def _fallback_form(folder: Path) -> Path:
    """A complete form made for another file: the save must refuse this one first."""
    out = folder / "other-form.json"
    if not out.exists():
        with _captured(folder):
            _make_form(str(Path(os.environ["CORPUS_DATA"]) / "dv" / "toxo.dv"), out)
    return out


def _core(job: dict[str, Any]) -> tuple[int, str]:
    import numpy as np

    from napari_fairly.cli import exit_code_for
    from napari_fairly.core.errors import FairlyError
    from napari_fairly.core.reading import list_scenes, open_acquisition

    try:
        names = list_scenes(job["path"])
        with open_acquisition(job["path"]) as acq:
            acq.metadata.model_dump_json()
            acq.read_plane(0, 0, 0)
            acq.read_plane(-1, -1, -1)
            if acq.data.nbytes <= READ_ALL_BYTES:
                for t, c, z in np.ndindex(*acq.data.shape[:3]):
                    acq.read_plane(t, c, z)
        return 0, f"{len(names)} scene(s)"
    except FairlyError as err:
        return exit_code_for(err), str(err)


def _reader(job: dict[str, Any]) -> tuple[int, str]:
    import numpy as np

    from napari_fairly.cli import exit_code_for
    from napari_fairly.core.errors import FairlyError
    from napari_fairly.io.reader import get_reader

    read = get_reader(job["path"])
    if read is None:
        return 2, "not claimed by the reader (napari says no reader)"
    try:
        layers = read(job["path"])
        for data, _kwargs, _kind in layers:
            lead = data.ndim - (3 if _kwargs.get("rgb") else 2)
            np.asarray(data[(0,) * lead])
        return 0, f"{len(layers)} layer(s)"
    except FairlyError as err:
        return exit_code_for(err), str(err)


def _form_job(job: dict[str, Any]) -> tuple[int, str]:
    try:
        return _make_form(job["path"], Path(job["work"]) / "form.json"), ""
    except SystemExit as stop:
        return (stop.code if isinstance(stop.code, int) else 1), ""


def _save(job: dict[str, Any]) -> tuple[int, str]:
    work = Path(job["work"])
    form = work / "form.json"
    code = -1
    with _captured(work / "form-step"), contextlib.suppress(Exception, SystemExit):
        code = _make_form(job["path"], form)
    if not form.exists() or code not in (0, 1):
        form = _fallback_form(Path(job["shared"]))
    return _cli(
        [
            "save",
            job["path"],
            "--form",
            str(form),
            "--out",
            str(work / "out"),
            "--accept-qc-failures",
        ]
    )


def _shell(job: dict[str, Any]) -> tuple[int, str]:
    """A command line in a new process (closed pipes, a full stdout, argv bytes)."""
    import subprocess

    done = subprocess.run(["bash", "-c", job["shell"]], check=False)
    return done.returncode, ""


ENTRIES: dict[str, Callable[[dict[str, Any]], tuple[int, str]]] = {
    "core": _core,
    "reader": _reader,
    "inspect": lambda job: _cli(["inspect", job["path"]]),
    "form": _form_job,
    "qc": lambda job: _cli(["qc", job["path"]]),
    "save": _save,
    "cli": lambda job: _cli(job["argv"]),
    "shell": _shell,
}


def run(jobs: list[dict[str, Any]], results: Path) -> None:
    with open(results, "a", encoding="utf-8") as log:

        def write(record: dict[str, Any]) -> None:
            log.write(json.dumps(record) + "\n")
            log.flush()

        for job in jobs:
            work = Path(job["work"])
            (work / "form-step").mkdir(parents=True, exist_ok=True)
            write({"start": job["id"]})
            _peak_reset()
            started = time.monotonic()
            error = ""
            with _captured(work) as printed:
                try:
                    code, said = ENTRIES[job["entry"]](job)
                except BaseException as err:
                    code, said = -1, ""
                    error = "".join(traceback.format_exception(err))
            write(
                {
                    "done": job["id"],
                    "code": code,
                    "said": said,
                    "error": error,
                    "stdout": printed["stdout"][-4000:],
                    "stdout_chars": len(printed["stdout"]),
                    "stderr": printed["stderr"][-4000:],
                    "seconds": round(time.monotonic() - started, 3),
                    "peak_mib": round(_peak_mib(), 1),
                }
            )


if __name__ == "__main__":
    os.environ.setdefault("FAIRLY_LANG", "en")
    tempfile.tempdir = os.environ.get("CORPUS_TMP") or None
    run(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")), Path(sys.argv[2]))
