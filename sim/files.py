"""Write run directories so that nothing is ever half-written or lost, and read them back
so that a damaged file is a clear error.

Every file goes to a temporary name in the same folder and is moved into place with
`os.replace` (atomic on one filesystem). A whole run directory is assembled under a
hidden temporary name and swapped in at the end, so a killed run leaves the previous
results untouched.

The output policy (README, "Output directories"): `--out` is a new path, an empty dir, or
a sektorsim run directory (it has a manifest.json) which only `--force` replaces, and
then only if every file in it is one sektorsim writes. Anything else is refused before
any work starts, as is an output another sektorsim is writing (a lock), an unwritable
place or too little free disk. Nothing the program did not write is ever moved,
overwritten or deleted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import ConfigError, OutputError, Problem, RunDirError

if TYPE_CHECKING:  # polars is imported where a table is read: `sektorsim --help` needs none
    import polars as pl

#: What marks a directory as sektorsim's (run, batch, decompose, calibration).
MARKER = "manifest.json"
#: Every name sektorsim writes into an output directory; with --force only these may go.
OURS = frozenset({
    MARKER, "kpis.parquet", "agents.parquet", "practices.parquet", "equity.parquet",
    "analysis.parquet", "decomposition.parquet",
    "fit.csv", "fit.parquet", "fit.png", "history.parquet", "calibrated.yaml", "report.html",
    "report.md", "stress-des.md", "figures", "parts", "experiment.json", "validation.json",
})  # fmt: skip


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Deterministic bytes for the same frame: fixed compression, no timestamps."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.write_parquet(tmp, compression="zstd", compression_level=3, statistics=True)
    os.replace(tmp, path)


def write_json(data: dict, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(
        json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)


def write_text(text: str, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@contextlib.contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces `target` only if the block succeeds."""
    target = Path(target).absolute().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    stage.chmod(0o777 & ~umask)  # mkdtemp makes it private; a run directory is not
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if target.exists():
        try:  # checked before the work; again now, in case something changed meanwhile
            check_output(target, force=True)
        except ConfigError:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------- output policy
def _nearest_existing(path: Path) -> Path:
    while not path.exists() and not path.is_symlink() and path != path.parent:
        path = path.parent
    return path


def check_output(
    out: Path, force: bool = False, need_bytes: int = 0, marker: str = MARKER, option: str = "--out"
) -> None:
    """Refuse, before any work, an output that would replace something not ours, that
    cannot be written, or that lacks the disk for `need_bytes`; OutputError says why."""
    out = Path(out)

    def fail(message: str) -> OutputError:
        return OutputError([Problem(option, None, str(out), message)])

    if out.is_symlink() or out.exists():
        real = out.resolve()
        if not real.is_dir():
            raise fail("is a file, not a directory; choose a new path for the output")
        entries = sorted(p.name for p in real.iterdir())
        if entries and marker not in entries:
            raise fail(
                f"exists and is not a sektorsim run directory (no {marker}); it holds "
                f"{', '.join(entries[:3])}{' …' if len(entries) > 3 else ''}. Choose a new path"
            )
        if out.is_symlink():
            raise fail(f"is a symbolic link to {real}; give that directory itself")
        if entries and not force:
            raise fail("holds an earlier sektorsim run; pass --force to replace it")
        foreign = [e for e in entries if e not in OURS and not e.startswith(".")]
        if foreign:
            raise fail(
                f"contains {', '.join(foreign)}, not written by sektorsim; move it away first"
            )
    place = _nearest_existing(out.absolute().parent)
    if not place.is_dir():
        raise fail(f"{place} is not a directory")
    try:
        probe = tempfile.mkdtemp(prefix=".sektorsim-probe-", dir=place)
        os.rmdir(probe)
    except OSError as e:
        raise fail(f"{place} is not writable ({e.strerror})") from None
    free = shutil.disk_usage(place).free
    if need_bytes > free:
        raise fail(
            f"needs about {need_bytes / 1e6:,.1f} MB of free disk; {place} has {free / 1e6:,.1f} MB"
        )


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold the output's lock for the whole run: a second sektorsim writing the same
    directory is refused instead of interleaving. The lock file lives in the system's
    temporary directory, never next to the user's files; the kernel frees it if the
    process dies."""
    folder = Path(tempfile.gettempdir()) / f"sektorsim-locks-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    key = hashlib.sha256(str(Path(out).absolute().resolve()).encode()).hexdigest()[:32]
    path = folder / f"{key}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise OutputError(
                [Problem("--out", None, str(out), f"cannot create its lock {path}: {e.strerror}")]
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            try:
                owner = path.read_text().strip() or "?"
            except OSError:
                owner = "?"
            raise OutputError(
                [
                    Problem(
                        "--out",
                        None,
                        str(out),
                        f"is in use by another sektorsim (pid {owner}); "
                        "wait for it to finish or choose another --out",
                    )
                ]
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else the previous holder removed it between our open and flock
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


# ---------------------------------------------------------------- checked reading
def read_json(path: Path, error: type[ConfigError] = RunDirError) -> object:
    """A JSON file, or `error` naming the file when it is missing or damaged."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error([Problem(str(path), None, "", "not found")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise error([Problem(str(path), None, "", f"cannot read: {e}")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise error([Problem(str(path), e.lineno, "", f"malformed JSON: {e.msg}")]) from None


def read_parquet(
    path: Path, error: type[ConfigError] = RunDirError, columns: Iterable[str] = ()
) -> pl.DataFrame:
    """A Parquet table with (at least) `columns`, or `error` naming the file."""
    import polars as pl

    path = Path(path)
    if not path.is_file():
        raise error([Problem(str(path), None, "", "not found")])
    try:
        df = pl.read_parquet(path)
    except Exception as e:  # noqa: BLE001 - polars raises many kinds for damaged files
        raise error(
            [
                Problem(
                    str(path), None, "", f"not a readable Parquet file (damaged or truncated?): {e}"
                )
            ]
        ) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise error([Problem(str(path), None, "", f"missing column(s): {', '.join(missing)}")])
    return df


def check_parquet(path: Path, error: type[ConfigError] = RunDirError) -> None:
    """Cheap check (footer and schema only) that a Parquet file is whole."""
    import polars as pl

    try:
        pl.read_parquet_schema(path)
    except Exception as e:  # noqa: BLE001 - polars raises many kinds for damaged files
        raise error(
            [
                Problem(
                    str(path), None, "", f"not a readable Parquet file (damaged or truncated?): {e}"
                )
            ]
        ) from None
