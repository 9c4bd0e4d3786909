"""The manifest: everything needed to rerun a run and check it gives the same bytes."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim import __version__
from sim.errors import Problem, RunDirError
from sim.files import read_json, sha256

PACKAGES = (
    "numpy",
    "numba",
    "llvmlite",
    "polars",
    "pyarrow",
    "pydantic",
    "ruamel.yaml",
    "simpy",
    "mesa",
    "scipy",
)
MANIFEST = "manifest.json"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "sektorsim": __version__}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def code_revision() -> dict[str, str | bool | None]:
    """The git commit of the code that ran, and whether it had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sim"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    if rev.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def build_manifest(kind: str, run: dict, outputs: dict[str, Path]) -> dict:
    """`run` holds the resolved configs, seed and options; outputs are hashed here."""
    return {
        "kind": kind,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        **run,
        "versions": versions(),
        "platform": {
            "system": platform.system(),
            "machine": platform.machine(),
            "release": platform.release(),
        },
        "code": code_revision(),
        "outputs": {name: {"file": p.name, "sha256": sha256(p)} for name, p in outputs.items()},
    }


# ------------------------------------------------------------------ reading back
class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow")


class FileRecord(_Entry):
    file: str
    sha256: str


class ScenarioRecord(_Entry):
    name: str
    files: list[str] = []
    config: dict
    geography: FileRecord | None = None


class ManifestRecord(_Entry):
    """What commands read from a manifest; checked before they rely on it."""

    kind: Literal["run", "batch", "decompose", "calibration"]
    seed: int = Field(ge=0)
    replications: int = Field(ge=1)
    engine: str = "numba"
    scenarios: list[ScenarioRecord] = []
    draws: list[dict] | None = None
    outputs: dict[str, FileRecord]


def read_manifest(run_dir: Path, kinds: tuple[str, ...] = (), verb: str = "used here") -> dict:
    """The run directory's manifest, checked; RunDirError naming the file if it is missing,
    damaged, incomplete, or of a kind (e.g. decompose) the command cannot use."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise RunDirError([Problem(str(run_dir), None, "", "not found")])
    if not run_dir.is_dir():
        raise RunDirError([Problem(str(run_dir), None, "", "is a file, not a run directory")])
    path = run_dir / MANIFEST
    if not path.is_file():
        raise RunDirError(
            [Problem(str(path), None, "", "no manifest.json: not a sektorsim run directory")]
        )
    data = read_json(path)
    if not isinstance(data, dict):
        raise RunDirError([Problem(str(path), None, "", "expected a JSON object")])
    try:
        record = ManifestRecord.model_validate(data)
    except ValidationError as e:
        raise RunDirError(
            [
                Problem(str(path), None, ".".join(str(p) for p in err["loc"]), err["msg"])
                for err in e.errors()
            ]
        ) from None
    if kinds and record.kind not in kinds:
        raise RunDirError(
            [Problem(str(path), None, "kind", f"a {record.kind} directory cannot be {verb}")]
        )
    return data
