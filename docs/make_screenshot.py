"""The README's tutorial screenshots and the screen-check of every state, in one run.

Run from the repository, under a virtual screen of the acquisition PC's size:

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/make_screenshot.py

It runs ``../shared/tools/screen-check`` on the demo (as ``make demo`` opens it),
after the checks and with an incomplete form, and on the training demo, each with
its ``--prepare`` state from ``docs/screens/``. The states also take the tutorial's
screenshots (``docs/tutorial/*.png``) as they go, so the README shows what was
measured. The screen-check's own screenshots (one per dock) go to
``docs/screens/out/<language>/<state>/``, to be looked at; its summary line of each
state is printed, and the script fails if any state has a problem. ``FAIRLY_LANG=fr``
checks the French panels (French words are longer); its tutorial shots go to
``docs/tutorial/fr/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
SCREEN_CHECK = REPO.parent / "shared" / "tools" / "screen-check" / "screen_check.py"
# (state, sample, --prepare script)
STATES = (
    ("default", "demo", "default.py"),
    ("incomplete_form", "demo", "incomplete_form.py"),
    ("after_checks", "demo", "after_checks.py"),
    ("training", "training", "training.py"),
)


def run_state(state: str, sample: str, prepare: str, env: dict[str, str]) -> str:
    """One screen-check run; its summary line (and its problems, printed)."""
    out = DOCS / "screens" / "out" / env.get("FAIRLY_LANG", "en") / state
    command = [
        sys.executable,
        str(SCREEN_CHECK),
        "--plugin",
        "napari-fairly",
        "--sample",
        sample,
        "--out",
        str(out),
        "--min-rows",
        "8",
        "--prepare",
        str(DOCS / "screens" / prepare),
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    for line in lines[:-1]:
        print(f"  {line}")
    if run.returncode not in (0, 1) or not lines:
        print(run.stderr[-3000:], file=sys.stderr)
        return f"screen-check failed to run ({run.returncode})"
    return lines[-1]


def main() -> int:
    """Every state; exit 1 when one has a problem."""
    env = dict(os.environ)
    env.setdefault("FAIRLY_CACHE_DIR", tempfile.mkdtemp(prefix="fairly-demo-"))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p
    )
    env.setdefault("FAIRLY_LANG", "en")
    language = env["FAIRLY_LANG"]
    tutorial = DOCS / "tutorial"
    env["FAIRLY_TUTORIAL_DIR"] = str(
        tutorial if language == "en" else tutorial / language
    )
    failed = False
    for state, sample, prepare in STATES:
        summary = run_state(state, sample, prepare, env)
        print(f"{state}: {summary}")
        failed = failed or not summary.startswith("screen-check: 0 problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
