"""The manifest: everything needed to rerun a run and check it gives the same bytes."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim import __version__
from sim.errors import Problem, RunDirError
from sim.files import read_json, sha256, write_json

#: Besides sektorsim's own requirements: what they compile with or run on.
INDIRECT = ("llvmlite", "pandas", "distributed")
MANIFEST = "manifest.json"


def dependencies() -> list[str]:
    """sektorsim's requirements as installed (`importlib.metadata.requires`): every core
    dependency, and those of the optional extras that are installed."""
    names = []
    for req in importlib.metadata.requires("sektorsim") or []:
        name = re.match(r"[A-Za-z0-9_.\-]+", req).group(0)
        if "extra ==" in req:
            try:
                importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                continue
        names.append(name)
    return sorted(dict.fromkeys([*names, *INDIRECT]), key=str.lower)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "sektorsim": __version__}
    for name in dependencies():
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def portable_command(argv: list[str]) -> list[str]:
    """The command line without absolute paths: the program as `sektorsim`, paths under
    the working directory relative to it, others by their last two parts."""
    cwd = Path.cwd()
    out = ["sektorsim"]
    for arg in argv[1:]:
        path = Path(arg)
        if path.is_absolute():
            try:
                arg = path.relative_to(cwd).as_posix()
            except ValueError:
                arg = ".../" + "/".join(path.parts[-2:])
        out.append(arg)
    return out


def _relative(path: str) -> str:
    """PATH relative to the working directory when it lies inside it (replay runs from
    there); a path outside stays as it is, or replay could not find the file."""
    p = Path(path)
    if p.is_absolute():
        try:
            return p.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path
    return path


def portable_scenarios(records: list[dict]) -> list[dict]:
    """Scenario records with their config and geography files relative where possible."""
    out = []
    for r in records:
        r = dict(r)
        if "files" in r:
            r["files"] = [_relative(f) for f in r["files"]]
        if isinstance(r.get("geography"), dict):
            geo = dict(r["geography"])
            for key in ("file", "coordinates"):
                if isinstance(geo.get(key), str):
                    geo[key] = _relative(geo[key])
            r["geography"] = geo
        out.append(r)
    return out


def hash_directory(run_dir: Path, named: dict[str, str] | None = None) -> dict[str, dict]:
    """SHA-256 of every file in RUN_DIR (relative paths; not the manifest itself, not
    hidden temporaries nor a batch's parts/). NAMED maps file -> key (e.g. kpis)."""
    named = named or {}
    out = {}
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir)
        if (
            not path.is_file()
            or rel.as_posix() == MANIFEST
            or rel.parts[0] == "parts"
            or any(part.startswith(".") for part in rel.parts)
        ):
            continue
        key = named.get(rel.as_posix(), rel.as_posix())
        out[key] = {"file": rel.as_posix(), "sha256": sha256(path)}
    return out


def refresh_manifest(run_dir: Path) -> None:
    """Hash every file of the run directory into the manifest (after figures and report)."""
    path = run_dir / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    old = manifest.get("outputs", {})
    named = {v["file"]: k for k, v in old.items() if k != v["file"]}
    manifest["outputs"] = hash_directory(run_dir, named)
    write_json(manifest, path)


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
        "command": portable_command(sys.argv),
        **run,
        **({"scenarios": portable_scenarios(run["scenarios"])} if "scenarios" in run else {}),
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
