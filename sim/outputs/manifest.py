"""The manifest: everything needed to rerun a run and check it gives the same bytes."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

from sim import __version__
from sim.files import sha256

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
