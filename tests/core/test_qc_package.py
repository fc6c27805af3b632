"""Shape of the ``core.qc`` package: one-way imports inside, one public face outside."""

from __future__ import annotations

import ast
from pathlib import Path

import napari_fairly
from napari_fairly.core import qc

SRC = Path(napari_fairly.__file__).parent
QC = SRC / "core" / "qc"
PREFIX = "napari_fairly.core.qc"


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``from … import`` in a file, at any depth.

    Imports inside functions and under ``TYPE_CHECKING`` count too: they tie
    modules together as much as top-level ones do.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module, [alias.name for alias in node.names])
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    ]


def _qc_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in QC.glob("*.py")} - {"__init__"}
    graph: dict[str, set[str]] = {}
    for name in modules:
        deps: set[str] = set()
        for module, names in _imports(QC / f"{name}.py"):
            if module.startswith(f"{PREFIX}."):
                deps.add(module.rsplit(".", 1)[1])
            elif module == PREFIX:
                deps |= set(names) & modules
        graph[name] = deps - {name}
    return graph


def test_qc_modules_import_each_other_one_way() -> None:
    graph = _qc_graph()
    # depth-first search for a cycle
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
    # the estimator builds on the pixel pass, never the other way round
    assert "stats" in graph["snr"] and "snr" not in graph["stats"]


def test_public_face_exports_what_other_packages_use() -> None:
    """Every name other packages take from a ``core.qc`` module is in ``core.qc``."""
    used: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        if QC in path.parents:
            continue
        for module, names in _imports(path):
            if module.startswith(f"{PREFIX}.") and not module.endswith("._kernels"):
                used.update(dict.fromkeys(names, str(path.relative_to(SRC))))
    missing = {name: where for name, where in used.items() if name not in qc.__all__}
    assert not missing
    assert {"EarlySnr", "SnrSettings", "SnrPlaneCache", "smooth"} <= set(qc.__all__)
    assert {"exact_histogram", "compiled_kernel", "resolve_inputs"} <= set(qc.__all__)
    for name in qc.__all__:
        assert getattr(qc, name) is not None, name
