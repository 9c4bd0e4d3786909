"""Where the shipped configs, experiments and starter files are, installed or not."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
STARTER = PACKAGE / "starter"


def shipped_root() -> Path:
    """The directory holding configs/ and experiments/: inside the wheel, or the repository
    for an editable install (`make` installs editable)."""
    inside = PACKAGE / "_shipped"
    return inside if inside.is_dir() else PACKAGE.parent
