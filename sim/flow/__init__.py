"""Patient flow: the compiled event kernel, its inputs and its driver.

numba keeps the compiled kernel beside the sources (`__pycache__`). Where those are
read-only (a non-editable install, a shared system site-packages) it goes to the user's
cache directory instead, so a process loads the kernel rather than compiling it (about a
minute); `sim.flow.cache` keys it on a fingerprint there too. Set before numba is
imported (here, before `sim.flow.kernel`); `NUMBA_CACHE_DIR`, when set, wins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_cache_dir() -> Path:
    """~/.cache/sektorsim/numba (XDG_CACHE_HOME respected)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sektorsim" / "numba"


def writable(directory: Path) -> bool:
    """Can numba write its cache here (the directory, or its parent to create it)?"""
    target = directory if directory.exists() else directory.parent
    return os.access(target, os.W_OK)


def numba_cache_dir(package: Path, environ: dict) -> str | None:
    """The NUMBA_CACHE_DIR to set: None when numba's in-tree cache works or one is set."""
    if environ.get("NUMBA_CACHE_DIR") or writable(package / "__pycache__"):
        return None
    return str(user_cache_dir())


def _use_user_cache_if_read_only() -> None:
    chosen = numba_cache_dir(Path(__file__).resolve().parent, os.environ)
    if chosen is None:
        return
    os.environ["NUMBA_CACHE_DIR"] = chosen  # inherited by spawned workers
    if "numba" in sys.modules:  # numba read its configuration already
        from numba.core import config

        config.CACHE_DIR = chosen


_use_user_cache_if_read_only()
