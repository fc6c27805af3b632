"""A Micro-Meta App microscope file for the tests, written the way the app saves one.

Property names follow the schemas of WU-BIMAC/MicroMetaApp-React
``schemas/fullSchema.json`` (``Objective.json``: NominalMagnification, LensNA,
NominalImmersionMedium, Correction; ``Laser.json``: Wavelength + WavelengthUnit;
``LightEmittingDiode.json``: LEDModule_n.PeakWavelenght (sic); filters:
TransmittanceRange_n.CutIn/CutOut; cameras ``CMOS.json``…); values are text, as the
app writes them. The stand and the component list are the app's saved layout
(``MicroscopeStand``, ``components`` with ``Schema_ID`` and ``ID``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OBJECTIVE_63 = {
    "Schema_ID": "Objective.json",
    "ID": "obj-63",
    "Name": "Plan-Apochromat 63x/1.4 Oil",
    "Manufacturer": "Zeiss",
    "Model": "420782-9900",
    "NominalMagnification": "63",
    "LensNA": "1.4",
    "NominalImmersionMedium": "Oil",
    "Correction": "PlanApo",
    "Tier": 1,
}
OBJECTIVE_20 = {
    "Schema_ID": "Objective.json",
    "ID": "obj-20",
    "Name": "Plan-Apochromat 20x/0.8",
    "Manufacturer": "Zeiss",
    "NominalMagnification": "20",
    "LensNA": "0.8",
    "NominalImmersionMedium": "Air",
    "Tier": 1,
}


def microscope(**changes: Any) -> dict[str, Any]:
    """A widefield microscope: stand, two objectives, a laser, an LED engine,
    filters, a camera, and a stage (a component napari-fairly does not read)."""
    data: dict[str, Any] = {
        "Name": "Axio Observer 7 (room 12)",
        "Schema_ID": "Instrument.json",
        "ID": "scope-1",
        "Tier": 2,
        "ValidationTier": 2,
        "Version": "2.01.0",
        "MicroscopeStand": {
            "Schema_ID": "InvertedMicroscopeStand.json",
            "Name": "Axio Observer 7",
            "Manufacturer": "Zeiss",
            "Model": "Axio Observer 7",
            "ID": "stand-1",
        },
        "components": [
            OBJECTIVE_63,
            OBJECTIVE_20,
            {
                "Schema_ID": "Laser.json",
                "ID": "laser-488",
                "Name": "OBIS 488 LX",
                "Manufacturer": "Coherent",
                "Wavelength": "488",
                "WavelengthUnit": "nm",
                "LaserMedium": "Semiconductor",
            },
            {
                "Schema_ID": "LightEmittingDiode.json",
                "ID": "led-1",
                "Name": "pE-300",
                "Manufacturer": "CoolLED",
                "LEDModule_1": {"PeakWavelenght": "0.365", "PeakWavelenghtUnit": "µm"},
                "LEDModule_2": {"PeakWavelenght": "590", "PeakWavelenghtUnit": "nm"},
            },
            {
                "Schema_ID": "EmissionFilter.json",
                "ID": "em-525",
                "Name": "ET525/50m",
                "Manufacturer": "Chroma",
                "TransmittanceRange_1": {
                    "CutIn": "500",
                    "CutInUnit": "nm",
                    "CutOut": "550",
                    "CutOutUnit": "nm",
                    "Transmittance": "0.93",
                },
            },
            {
                "Schema_ID": "EmissionFilter.json",
                "ID": "em-460",
                "Name": "ET460/50m",
                "Manufacturer": "Chroma",
                "TransmittanceRange_1": {"CutIn": "435", "CutOut": "485"},
            },
            {
                "Schema_ID": "Dichroic.json",
                "ID": "dc-1",
                "Name": "T495lpxr",
                "TransmittanceRange_1": {"CutIn": "495", "CutOut": "800"},
            },
            {
                "Schema_ID": "CMOS.json",
                "ID": "cam-1",
                "Name": "ORCA-Fusion",
                "Manufacturer": "Hamamatsu",
                "Model": "C14440-20UP",
            },
            {"Schema_ID": "MechanicalStage.json", "ID": "stage-1", "Name": "Stage"},
        ],
        "linkedFields": {},
    }
    data.update(changes)
    return data


def write_microscope(path: Path, data: dict[str, Any] | None = None) -> Path:
    """Write ``data`` (default: :func:`microscope`) as the app does (JSON, UTF-8)."""
    path.write_text(
        json.dumps(data if data is not None else microscope(), indent=2),
        encoding="utf-8",
    )
    return path
