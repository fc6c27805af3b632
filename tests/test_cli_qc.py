"""``fairly qc`` on real files and on the demo; QC on every file of the data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import DATA
from napari_fairly.cli import main
from napari_fairly.core import strict_json
from napari_fairly.core.checksums import sha256_file
from napari_fairly.core.qc import Severity, run_qc
from napari_fairly.core.reading import list_scenes, open_acquisition


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from napari_fairly.core.demo import write_demo_acquisition

    return write_demo_acquisition(tmp_path_factory.mktemp("demo"))


def test_every_file_and_scene(data_file: Path) -> None:
    for scene in range(len(list_scenes(data_file))):
        acq = open_acquisition(data_file, scene)
        report = run_qc(acq, language="en")
        stats = report.pixel_statistics
        assert stats is not None and stats.complete
        size_c = stats.shape_tczyx[1]
        assert {n.channel for n in report.nyquist} == set(range(size_c))
        for row in report.rows:
            if row.severity is Severity.NOT_CHECKED:
                # the reason is said: the missing input, or why the rule does not apply
                assert (
                    "cannot check" in row.message
                    or "no Nyquist rule" in row.message
                    or "not judged" in row.message
                ), row
        checks = {r.check for r in report.rows}
        assert {
            "saturation",
            "zero_clipping",
            "na_vs_immersion",
            "channel_count",
        } <= checks
        # what `fairly qc --json` prints: strict JSON (RFC 8259), never NaN
        strict_json.loads(report.to_json())


def test_known_findings_in_real_files() -> None:
    wells = run_qc(open_acquisition(DATA / "czi/WellD6-7_S2.czi"), language="en")
    nyq = {(r.check, r.channel): r for r in wells.rows if r.check.startswith("nyquist")}
    assert nyq[("nyquist_x", 0)].verdict == "oversampled"  # 0.1 µm pixels at 5x
    assert any(
        r.check == "pixel_size_magnification" and r.verdict == "implausible"
        for r in wells.rows
    )
    lsm = run_qc(open_acquisition(DATA / "czi/LSM880_AiryScan.czi"), language="en")
    count = next(r for r in lsm.rows if r.check == "channel_count")
    assert (count.verdict, count.value, count.threshold) == ("mismatch", 8, 4)
    division = run_qc(
        open_acquisition(DATA / "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"),
        language="en",
    )
    assert any(
        r.check == "bit_depth" and r.verdict == "data_exceed" for r in division.rows
    )
    cluster = run_qc(open_acquisition(DATA / "nd2/cluster.nd2"), language="en")
    z0 = next(n for n in cluster.nyquist if n.channel == 0)
    assert z0.formula == "confocal_lambda_ex"
    assert z0.lateral_nm == pytest.approx(488 / (8 * 0.95), rel=1e-3)
    assert z0.pinhole_au_source == "assumed 1 AU (not in file)"
    x0 = next(a for a in z0.axes if a.axis == "x")
    assert x0.tolerance == pytest.approx(1.6)  # 1 AU
    assert x0.message.endswith("(pinhole not in file: 1 Airy unit assumed)")


def test_demo_reports_saturated_channel_and_undersampled_z(
    demo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["qc", str(demo_file), "--json"])
    assert code == 3
    data = json.loads(capsys.readouterr().out)
    rows = data["rows"]
    saturated = [r for r in rows if r["check"] == "saturation" and r["z"] is None]
    by_channel = {r["channel"]: r["severity"] for r in saturated}
    assert (
        by_channel[2] in ("warning", "error") and by_channel[0] == by_channel[1] == "ok"
    )
    z_rows = [r for r in rows if r["check"] == "nyquist_z"]
    assert len(z_rows) == 3 and all(r["verdict"] == "undersampled" for r in z_rows)
    xy_rows = [r for r in rows if r["check"] in ("nyquist_x", "nyquist_y")]
    assert all(r["verdict"] == "adequate" for r in xy_rows)
    assert data["failed"] is True


def test_table_csv_and_overrides(
    demo_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "qc.csv"
    code = main(
        ["qc", str(demo_file), "--csv", str(out), "--set", "pz=0.2", "--lang", "en"]
    )
    text = capsys.readouterr().out
    assert code == 3  # still saturated
    assert "Z sampling" in text and "Channel 2 (mCherry)" in text  # words, not codes
    frame = pd.read_csv(out)
    assert set(frame["source_sha256"]) == {sha256_file(demo_file)}
    z = frame[frame["check"] == "nyquist_z"]
    assert set(z["verdict"]) == {"adequate"}  # 200 nm steps pass with the override
    assert (frame["source_file"] == demo_file.name).all()
    # never overwrite the CSV
    assert main(["qc", str(demo_file), "--csv", str(out)]) == 2
    assert "never overwritten" in capsys.readouterr().err


def test_pass_and_warn_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    # the single plane of FOV7 has no failing check (missing inputs are not failures)
    code = main(["qc", str(DATA / "ome-tiff/FOV7_HV110_P0500510000.ome.tiff")])
    assert code == 0
    assert "worst = " in capsys.readouterr().out


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("foo=1", "unknown setting"),
        ("na=-1", "objective NA must be above 0"),
        ("pz=abc", "not a number"),
        ("image_acquisition.channels.3.name=x", "channel 3 does not exist"),
    ],
)
def test_bad_setting_is_a_verdict_exit_1(
    setting: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["qc", str(DATA / "dv/toxo.dv"), "--set", setting]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fairly qc: ") and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["qc", "/nonexistent/file.czi"], "no such file"),
        (["qc", str(DATA / "dv/toxo.dv"), "--scene", "7"], "scene 7 does not exist"),
    ],
)
def test_bad_input_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("fairly qc: ") and message in err and "Traceback" not in err


def test_installed_command(demo_file: Path) -> None:
    fairly = Path(sys.executable).with_name("fairly")
    run = subprocess.run(
        [str(fairly), "qc", str(demo_file), "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 3, run.stderr
    assert "QC FAILED" in run.stdout and "undersampled" in run.stdout


def test_facility_thresholds_apply(
    demo_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    template = tmp_path / "facility.yaml"
    template.write_text(
        "facility: Test facility\n"
        "options:\n"
        "  qc_thresholds:\n"
        "    ceiling_error_frac: 0.5\n"  # tolerate clipping
        "    undersampled_ratio: 2.5\n",  # tolerate the demo's coarse z-step
        encoding="utf-8",
    )
    monkeypatch.setenv("FAIRLY_TEMPLATE", str(template))
    assert main(["qc", str(demo_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["thresholds"]["ceiling_error_frac"] == 0.5
    assert {r["verdict"] for r in data["rows"] if r["check"] == "nyquist_z"} == {
        "adequate"
    }
    template.write_text(
        "facility: Test facility\noptions:\n  qc_thresholds:\n    ceiling_eror: 0.5\n",
        encoding="utf-8",
    )
    assert main(["qc", str(demo_file)]) == 2
    assert "unknown QC threshold 'ceiling_eror'" in capsys.readouterr().err


def test_qc_json_is_strict_where_an_snr_is_not_reliable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A flat background gives no SNR: null with its reason, not a bare NaN."""
    code = main(["qc", str(DATA / "tiff/chessboard_GRAY_U16.tif"), "--json"])
    assert code in (0, 3)
    out = capsys.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    data = strict_json.loads(out)
    unreliable = [s for s in data["snr"] if "null_reasons" in s]
    assert unreliable and all(not s["valid"] for s in unreliable)
    assert unreliable[0]["null_reasons"]["sigma_signal_adu"] == strict_json.REASON_NAN
    assert unreliable[0]["sigma_signal_adu"] is None
