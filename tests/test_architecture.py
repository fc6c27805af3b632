"""The core runs headless: no Qt, napari or magicgui behind the core or the CLI."""

from __future__ import annotations

import subprocess
import sys

GUI_MODULES = {
    "qtpy",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "PySide6",
    "napari",
    "magicgui",
    "vispy",
    "superqt",
}


def test_core_and_cli_import_without_gui() -> None:
    """A fresh interpreter, because this test process may already have loaded napari."""
    probe = (
        "import importlib, pkgutil, sys, napari_fairly.cli, napari_fairly.core as c\n"
        "import napari_fairly.io as io\n"
        "for pkg, prefix in ((c, 'napari_fairly.core.'), (io, 'napari_fairly.io.')):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, prefix):\n"
        "        importlib.import_module(m.name)\n"
        "napari_fairly.cli.build_parser()\n"
        "from napari_fairly.core.export import preload\n"
        "preload()  # what the Save widget warms: zarr, scikit-image, the kernels\n"
        "print(*{n.split('.')[0] for n in sys.modules})"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded = set(run.stdout.split())
    assert "napari_fairly" in loaded
    assert not GUI_MODULES & loaded


def test_manifest_is_valid_for_npe2() -> None:
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution("napari-fairly")
    manifest.validate_imports()  # every python_name resolves to a real object
    contributions = manifest.contributions
    assert {w.display_name for w in contributions.widgets or []} == {
        "FAIR assistant",
        "Open acquisition",
        "Acquisition metadata",
        "FAIR form",
        "Quality checks",
        "Save dataset",
        "Batch",
    }
    assert [s.key for s in contributions.sample_data or []] == ["demo", "training"]
    patterns = {p for r in contributions.readers or [] for p in r.filename_patterns}
    assert {"*.czi", "*.nd2", "*.lif", "*.dv", "*.ome.tif", "*.zarr"} <= patterns


def test_npe2_validate_command_accepts_manifest() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "napari-fairly"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "valid" in run.stdout.lower()


def test_other_packages_use_the_public_face_of_qc() -> None:
    """Export, the session, the commands and the widgets import ``core.qc`` only."""
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "napari_fairly"
    private = []
    for path in src.rglob("*.py"):
        if path.parent == src / "core" / "qc":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "napari_fairly.core.qc."
            ):
                private.append(f"{path.relative_to(src)}: {node.module}")
    assert private == []


def test_qc_does_not_depend_on_corrections() -> None:
    """One direction: corrections use the checks' vocabulary, never the reverse."""
    import ast
    from pathlib import Path

    qc = Path(__file__).resolve().parents[1] / "src" / "napari_fairly" / "core" / "qc"
    for path in qc.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "napari_fairly.core.corrections", path.name


def test_every_function_reads_at_once() -> None:
    """No function or method in src/ ranks worse than C in cyclomatic complexity."""
    from pathlib import Path

    from radon.complexity import cc_visit
    from radon.visitors import Class

    src = Path(__file__).resolve().parents[1] / "src" / "napari_fairly"
    too_complex = []
    for path in sorted(src.rglob("*.py")):
        for block in cc_visit(path.read_text(encoding="utf-8")):
            functions = block.methods if isinstance(block, Class) else [block]
            too_complex += [
                f"{path.relative_to(src)}:{f.lineno} {f.name} ({f.complexity})"
                for f in functions
                if f.complexity > 20
            ]
    assert too_complex == []


def test_a_command_imports_only_its_own_module() -> None:
    """``fairly save`` does not pay for what the other commands import."""
    probe = (
        "import sys, argparse\n"
        "from napari_fairly.cli import build_parser\n"
        "parser = build_parser('save')\n"
        "sub = next(a for a in parser._actions\n"
        "           if isinstance(a, argparse._SubParsersAction))\n"
        "print(*sorted(sub.choices))\n"
        "prefix = 'napari_fairly.commands.'\n"
        "print(*sorted(m for m in sys.modules if m.startswith(prefix)))\n"
        "full = build_parser()\n"
        "sub = next(a for a in full._actions\n"
        "           if isinstance(a, argparse._SubParsersAction))\n"
        "print(*sorted(sub.choices))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    choices, modules, every = run.stdout.splitlines()
    assert choices.split() == ["save", "verify"]
    assert modules.split() == ["napari_fairly.commands.save"]
    assert set(every.split()) == {
        "batch",
        "form",
        "inspect",
        "methods",
        "name",
        "qc",
        "report",
        "save",
        "verify",
        "watch",
    }
