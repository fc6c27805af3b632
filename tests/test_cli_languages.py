"""The command line in the user's language: ``fairly --help``, subcommand help and
``fairly qc`` in French or English, the checks' advice right in both; argparse's own
words go through the catalogues too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from napari_fairly.cli import main

# words that only a French text has (the English catalogue never writes them)
FRENCH = ("utilisation", "é", "è", " : ", " le ", " la ", " des ")


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from napari_fairly.core.demo import write_demo_acquisition

    return write_demo_acquisition(tmp_path_factory.mktemp("demo"))


def _help(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as ended:
        main([*args, "--help"])
    assert ended.value.code == 0
    return capsys.readouterr().out


def test_help_in_french(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    top = _help([], capsys)
    assert top.startswith("utilisation : fairly [-h] [--version] COMMANDE ...")
    for french in (
        "Rendre FAIR les acquisitions de microscopie",
        "options:",  # argparse's heading, same word in French
        "affiche ce message d'aide et quitte",
        "commandes:",
        "contrôles qualité : échantillonnage de Nyquist, RSB, saturation",
        "codes de sortie :",
        "entrée incorrecte : fichier illisible",
    ):
        assert french in top, french
    for command, french in (
        ("qc", "Contrôle une scène d'un fichier brut"),
        ("save", "N'écrase jamais rien."),
        ("form", "Préremplit le formulaire FAIR"),
        ("inspect", "Ouvre une acquisition brute en lecture seule"),
        ("name", "Affiche le nom date_projet_échantillon"),
        ("report", "langue du rapport"),
    ):
        text = _help([command], capsys)
        assert text.startswith(f"utilisation : fairly {command}"), command
        assert french in text, command


def test_help_in_english_has_no_french(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for args in ([], ["qc"], ["save"], ["form"], ["inspect"], ["name"], ["report"]):
        text = _help(args, capsys)
        assert text.startswith("usage: fairly"), args
        assert [w for w in FRENCH if w in text] == [], args


def test_help_follows_the_system_locale() -> None:
    """No FAIRLY_LANG: ``LANG=fr_FR.UTF-8`` is enough, in a new process."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL")}
    env.pop("FAIRLY_LANG", None)
    env.update(LANG="fr_FR.UTF-8", LC_MESSAGES="fr_FR.UTF-8")
    run = subprocess.run(
        [sys.executable, "-m", "napari_fairly.cli", "qc", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("utilisation : fairly qc")
    assert "langue des messages et des conseils" in run.stdout


def test_qc_output_in_french(
    demo_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    assert main(["qc", str(demo_file)]) == 3
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first == (
        "fairly-demo_3ch-zstack.ome.tif : pire = en échec ; CONTRÔLE QUALITÉ EN ÉCHEC"
    )
    for french in (
        # the header and the marks
        "contrôle",
        "ÉCHEC ",
        # the demo's axial sampling: its verdict, the z-step and the advice for Z
        "pas en z 500,0 nm contre Nyquist 246,3 nm (rapport 2,03) : "
        "sous-échantillonné, les détails entre les plans sont perdus",
        "→ utilisez des pas en z ≤ 246 nm (plus de plans sur la même profondeur)",
        # its saturated channel, in one unit, with what to do
        "Canal 2 (mCherry) : 0,6 % des pixels à 4095 (12 bits)",
        "baissez l'exposition, la puissance laser ou le gain",
        # SNR biased by the clipping
        "RSB 100,9 : pas fiable, 45,2 % du signal tronqué",
    ):
        assert french in out, french
    assert "undersampled" not in out and "reduce exposure" not in out


def test_qc_output_in_english_has_no_french(
    demo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["qc", str(demo_file)]) == 3
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("; QC FAILED")
    for english in (
        "z-step 500.0 nm vs Nyquist 246.3 nm (ratio 2.03): undersampled, detail "
        "between the planes is lost",
        "→ use z-steps of ≤ 246 nm (more planes over the same depth)",
        "Channel 2 (mCherry): 0.6 % of the pixels at 4095 (12 bits)",
        "reduce exposure, laser power or gain",
        "SNR 100.9: not trustworthy, 45.2 % of the signal clipped",
    ):
        assert english in out, english
    assert [w for w in FRENCH if w in out] == []


def test_lang_option_wins_and_codes_stay(
    demo_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--lang fr`` in an English session: French texts, the same codes in JSON."""
    import json

    assert main(["qc", str(demo_file), "--json"]) == 3
    english = json.loads(capsys.readouterr().out)
    assert main(["qc", str(demo_file), "--json", "--lang", "fr"]) == 3
    french = json.loads(capsys.readouterr().out)
    assert (english["language"], french["language"]) == ("en", "fr")

    def codes(report: dict[str, object]) -> list[tuple[object, ...]]:
        rows = report["rows"]
        assert isinstance(rows, list)
        return [
            (r["check"], r["channel"], r["z"], r["verdict"], r["value"]) for r in rows
        ]

    assert codes(english) == codes(french)
    axial = next(r for r in french["rows"] if r["check"] == "nyquist_z")
    assert axial["advice"] == (
        "utilisez des pas en z ≤ 246 nm (plus de plans sur la même profondeur)"
    )


def test_inspect_headings_in_french(
    demo_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    assert main(["inspect", str(demo_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("Taille   ") and " octets   format ome-tiff" in lines[1]
    assert lines[2].startswith("Scène    1 sur 1")
    assert lines[3].endswith("(axes TCZYX)")
    # the field paths are names for scripts: the same in both languages
    assert any(line.split()[:1] == ["significant_bits"] for line in lines)
