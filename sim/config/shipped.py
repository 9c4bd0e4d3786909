"""The files that ship with sektorsim: where configs, experiments and starter files are
(installed or not), `sektorsim init` (copy the starter files) and `sektorsim list`."""

from __future__ import annotations

import shutil
from pathlib import Path

from ruamel.yaml import YAML

from sim.errors import OutputError
from sim.files import staged_directory

PACKAGE = Path(__file__).resolve().parent
STARTER = PACKAGE / "starter"


def shipped_root() -> Path:
    """The directory holding configs/ and experiments/: inside the wheel, or the repository
    for an editable install (`make` installs editable)."""
    inside = PACKAGE.parent / "_shipped"
    return inside if inside.is_dir() else PACKAGE.parent.parent


#: What `init` copies: the starter scenario and reform, the national defaults they extend,
#: and the teaching geography (three municipalities, one hospital).
def _starter_sources() -> dict[str, Path]:
    root = shipped_root()
    return {
        "scenario.yaml": STARTER / "scenario.yaml",
        "reform.yaml": STARTER / "reform.yaml",
        "base.yaml": root / "configs" / "denmark" / "base.yaml",
        "teaching.csv": root / "configs" / "geography" / "teaching.csv",
        "teaching_coordinates.csv": root / "configs" / "geography" / "teaching_coordinates.csv",
    }


def write_starter(directory: Path) -> list[Path]:
    """Copy the starter files into a new or empty directory (never overwrite a user's files)."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OutputError.single(
            "DIRECTORY", f"{directory} exists and is not empty; choose a new directory"
        )
    if directory.exists():
        directory.rmdir()
    with staged_directory(directory) as stage:
        for name, src in _starter_sources().items():
            shutil.copyfile(src, stage / name)
    return [directory / name for name in _starter_sources()]


def list_shipped() -> dict[str, list[dict[str, str]]]:
    """Every shipped scenario config, calibration target file and experiment: file
    (relative), name, description."""
    root = shipped_root()
    found: dict[str, list[dict[str, str]]] = {
        "configs": [],
        "calibration targets": [],
        "experiments": [],
    }
    for folder in ("configs", "experiments"):
        for path in sorted((root / folder).rglob("*.yaml")):
            if path.name.endswith(".sources.yaml"):
                continue
            data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
            kind = "calibration targets" if "targets" in data else folder
            found[kind].append(
                {
                    "file": str(path.relative_to(root)),
                    "name": str(data.get("name", path.stem)),
                    "description": " ".join(str(data.get("description", "")).split()),
                }
            )
    return found
