"""Keep numba's on-disk cache of the kernel honest.

numba keys a cached function on its own source file only. The kernel also compiles in
constants from other modules (the counter columns of the measure registry, the age-band
edges, the readmission window), so a change there would silently load machine code that
writes to the wrong columns. We fingerprint those modules' sources and drop the kernel's
cached files whenever the fingerprint changes. `make clean` removes every cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType


def fingerprint(modules: Iterable[ModuleType]) -> str:
    """A hash of the source files the kernel takes compile-time constants from."""
    h = hashlib.sha256()
    for module in modules:
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()


def cache_directory(dispatcher) -> Path:
    """Where numba keeps (or would keep) the cached code of a `@njit(cache=True)` function."""
    return Path(dispatcher._cache._cache_path)  # numba's own locator: in-tree or user-wide


def discard_if_stale(directory: Path, stem: str, print_: str) -> bool:
    """Remove `stem.*.nbi/nbc` in `directory` unless they were built with this fingerprint.

    Returns True when files were discarded. An unwritable cache directory is left alone:
    numba then uses (and keys) a user-wide cache of its own.
    """
    stamp = directory / f"{stem}.fingerprint"
    try:
        if stamp.is_file() and stamp.read_text(encoding="ascii") == print_:
            return False
        stale = [p for p in directory.glob(f"{stem}.*") if p.suffix in (".nbi", ".nbc")]
        for path in stale:
            path.unlink(missing_ok=True)
        directory.mkdir(parents=True, exist_ok=True)
        stamp.write_text(print_, encoding="ascii")
        return bool(stale)
    except OSError:
        return False
