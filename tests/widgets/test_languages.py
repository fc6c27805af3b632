"""Every panel in the session's language: a French session shows no English text the
catalogue translates, an English one no French text; the checks' advice too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from qtpy.QtCore import QModelIndex, Qt
from qtpy.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QGroupBox,
    QLabel,
    QLineEdit,
    QTabBar,
    QWidget,
)
from widget_helpers import open_file, write_demo

from napari_fairly.core.i18n import LOCALE_DIR
from napari_fairly.widgets.assistant_widget import FairAssistantWidget
from napari_fairly.widgets.form_widget import FairFormWidget
from napari_fairly.widgets.metadata_widget import MetadataWidget
from napari_fairly.widgets.open_widget import OpenAcquisitionWidget
from napari_fairly.widgets.qc_widget import QualityChecksWidget
from napari_fairly.widgets.save_widget import SaveDatasetWidget

# the raw OME-XML subtree shows the file's element names (Channel, Objective…)
AS_IN_THE_FILE = {"OME-XML, as in the file", "OME-XML, tel que dans le fichier"}
# ontology labels (FBbi, NCBI Taxonomy) are the ontologies' own English words
ONTOLOGY = ("(FBbi:", "(NCBITaxon:")

PANELS = (
    OpenAcquisitionWidget,
    MetadataWidget,
    FairFormWidget,
    QualityChecksWidget,
    SaveDatasetWidget,
)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory)


def _translated() -> dict[str, str]:
    """English message → its French translation, where the two differ."""
    path = LOCALE_DIR / "fr" / "LC_MESSAGES" / "napari_fairly.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale="fr")
    pairs = {}
    for message in catalogue:
        text, key = message.string, message.id
        if isinstance(key, str) and isinstance(text, str) and text not in ("", key):
            pairs[key] = text
    return pairs


def _columns(model: Any, parent: QModelIndex) -> int:
    try:
        return int(model.columnCount(parent))
    except TypeError:  # a list model: one column (its columnCount is private)
        return 1


def _model_texts(view: QAbstractItemView) -> Iterator[str]:
    model = view.model()
    if model is None:
        return
    for section in range(_columns(model, QModelIndex())):
        yield str(model.headerData(section, Qt.Orientation.Horizontal) or "")

    def walk(parent: QModelIndex) -> Iterator[str]:
        for row in range(model.rowCount(parent)):
            if str(model.data(model.index(row, 0, parent))) in AS_IN_THE_FILE:
                continue  # the file's own metadata, element names as written
            for column in range(_columns(model, parent)):
                index = model.index(row, column, parent)
                yield str(model.data(index) or "")
                yield str(model.data(index, Qt.ItemDataRole.ToolTipRole) or "")
            first = model.index(row, 0, parent)
            if model.rowCount(first) > 0:
                yield from walk(first)

    yield from walk(QModelIndex())


def panel_texts(panel: QWidget) -> list[str]:
    """Every text a person reads in ``panel``: labels, buttons, titles, tabs, hints,
    tooltips and the cells of its tables and trees."""
    texts: list[str] = []
    for widget in [panel, *panel.findChildren(QWidget)]:
        texts.append(widget.toolTip())
        if isinstance(widget, (QLabel, QAbstractButton)):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QLineEdit):
            texts.append(widget.placeholderText())
        elif isinstance(widget, QTabBar):
            texts += [widget.tabText(i) for i in range(widget.count())]
        elif isinstance(widget, QAbstractItemView):
            texts += list(_model_texts(widget))
    return [t.strip() for t in texts if t and t.strip()]


def _strip_markup(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "").replace("&nbsp;", " ")


def untranslated(texts: list[str], pairs: dict[str, str]) -> list[str]:
    """Texts that are, or contain, a message the catalogue gives other words."""
    long = [m for m in pairs if len(m) >= 25 and "{" not in m and "%" not in m]
    found = []
    for text in map(_strip_markup, texts):
        if any(term in text for term in ONTOLOGY):
            continue
        if text in pairs or any(m in text for m in long):
            found.append(text)
    return found


def _panels(viewer: Any, qtbot: Any) -> list[QWidget]:
    panels: list[QWidget] = [FairAssistantWidget(viewer)]
    panels += [panel(viewer) for panel in PANELS]
    for panel in panels:
        qtbot.addWidget(panel)
    return panels


def _run_checks(assistant: FairAssistantWidget, qtbot: Any) -> None:
    worker = assistant.checks_page.run()
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: assistant.checks_page.worker() is None, timeout=10_000)


def _session_texts(
    language: str,
    viewer: Any,
    qtbot: Any,
    demo_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Any, list[QWidget], list[str]]:
    monkeypatch.setenv("FAIRLY_LANG", language)
    session = open_file(viewer, demo_file)
    panels = _panels(viewer, qtbot)
    assistant = panels[0]
    assert isinstance(assistant, FairAssistantWidget)
    _run_checks(assistant, qtbot)
    texts: list[str] = []
    for step in ("open", "metadata", "form", "checks", "save"):
        assistant.go_to(step)
        qtbot.wait(50)
        texts += panel_texts(assistant)
    for panel in panels[1:]:
        texts += panel_texts(panel)
    return session, panels, texts


def test_a_french_session_shows_french_in_every_panel(
    make_napari_viewer: Any,
    qtbot: Any,
    demo_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session, _shown, texts = _session_texts(
        "fr", make_napari_viewer(), qtbot, demo_file, monkeypatch
    )
    assert session.language == "fr" and session.report.language == "fr"
    assert len(texts) > 300  # every panel was read, tables included
    missed = untranslated(texts, _translated())
    assert missed == [], sorted(set(missed))
    joined = "\n".join(texts)
    for french in (
        "Étape 1 sur 5",
        "Lancer les contrôles qualité",
        "Acronyme du projet",
        "Enregistrer le jeu de données",
        "utilisez des pas en z ≤ 246 nm",  # the demo's axial advice
        "baissez l'exposition, la puissance laser ou le gain",  # its saturation
    ):
        assert french in joined, french


def test_an_english_session_shows_no_french(
    make_napari_viewer: Any,
    qtbot: Any,
    demo_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session, _shown, texts = _session_texts(
        "en", make_napari_viewer(), qtbot, demo_file, monkeypatch
    )
    assert session.report.language == "en"
    french = {fr: en for en, fr in _translated().items()}
    assert untranslated(texts, french) == []
    joined = "\n".join(texts)
    assert "use z-steps of ≤ 246 nm" in joined
    assert "reduce exposure, laser power or gain" in joined
    for word in (" le ", " la ", " des ", "é", "è", "à "):
        leaks = [t for t in texts if word in t and "fairly-demo" not in t]
        assert leaks == [], (word, leaks[:5])


def test_napari_language_setting_is_followed(
    make_napari_viewer: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A napari set to French (napari 0.4 had the setting) gives French panels on an
    English system; FAIRLY_LANG still wins."""
    from types import SimpleNamespace

    import napari.settings

    from napari_fairly.core import i18n

    viewer = make_napari_viewer()
    settings = SimpleNamespace(application=SimpleNamespace(language="fr_FR"))
    monkeypatch.setattr(napari.settings, "get_settings", lambda: settings)
    for name in ("FAIRLY_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    panel = OpenAcquisitionWidget(viewer)
    qtbot.addWidget(panel)
    assert i18n.current_language() == "fr"
    assert "Parcourir…" in panel_texts(panel)
    monkeypatch.setenv("FAIRLY_LANG", "en")
    assert i18n.current_language() == "en"
    settings.application.language = "en"  # napari's default: the system decides
    i18n.set_host_language(None)
    monkeypatch.delenv("FAIRLY_LANG")
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    qtbot.addWidget(OpenAcquisitionWidget(viewer))
    assert i18n.current_language() == "fr"


def test_dock_titles_in_french(
    make_napari_viewer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's English dock names are what napari looks docks up by; what it
    shows (title bar, tab) is translated."""
    from napari_fairly.widgets._common import translate_dock_title

    monkeypatch.setenv("FAIRLY_LANG", "fr")
    viewer = make_napari_viewer()
    dock, panel = viewer.window.add_plugin_dock_widget(
        "napari-fairly", "Quality checks"
    )
    translate_dock_title(panel)
    assert dock.windowTitle() == "Contrôles"  # the tab: one word
    assert dock.titleBarWidget().title.text() == "Contrôles qualité (napari-fairly)"
    assert dock.name == "Quality checks (napari-fairly)"  # napari's key, unchanged
    assert "Quality checks (napari-fairly)" in viewer.window._dock_widgets


def test_every_dock_tab_is_one_translated_word(
    make_napari_viewer: Any, monkeypatch: pytest.MonkeyPatch, qtbot: Any
) -> None:
    """Seven docks share one tab row under the panels: a tab is one short word, so
    the row fits an operator's 1366-pixel screen, and each is translated."""
    from qtpy.QtWidgets import QTabBar

    from napari_fairly.core.i18n import _
    from napari_fairly.widgets._common import DOCK_TITLES

    monkeypatch.setenv("FAIRLY_LANG", "fr")
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1366, 768)
    docks = [
        viewer.window.add_plugin_dock_widget("napari-fairly", name, tabify=True)[0]
        for name in DOCK_TITLES
    ]
    qtbot.wait(50)
    tabs = [dock.windowTitle() for dock in docks]
    assert tabs == [
        "Assistant",
        "Ouvrir",
        "Métadonnées",
        "Formulaire",
        "Contrôles",
        "Enregistrer",
        "Lot",
    ]
    shown = {
        bar.tabText(i)
        for bar in viewer.window._qt_window.findChildren(QTabBar)
        for i in range(bar.count())
    }
    assert set(tabs) <= shown
    bars = [dock.titleBarWidget().title.text() for dock in docks]
    assert bars[2] == "Métadonnées d'acquisition (napari-fairly)"
    assert bars[6] == "Lot (napari-fairly)"
    assert [_(title) + " (napari-fairly)" for _t, title in DOCK_TITLES.values()] == bars
