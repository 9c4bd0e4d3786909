"""What the page does, without the page: choices, validation, one comparison run, the answer.

Everything here goes through the library the CLI uses (loader, runner, summary, figures,
report), so a run started from the page writes the same run directory as `sektorsim run`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rich.console import Console

# Every import from the rest of sektorsim, in one block.
from sim.cli.console import finish
from sim.cli.run import execute_run
from sim.config.evidence import rows as parameter_rows
from sim.config.schema import Levers
from sim.config.shipped import shipped_root
from sim.errors import ConfigError
from sim.outputs.summary import comparison, whole_window
from sim.report.html import comparison_rows
from sim.run.runner import ScenarioSpec, load_scenario

#: Parameters the page offers as sliders (dotted paths of parameter objects); each is shown
#: only if the chosen config documents a range for it.
KEY_PARAMETERS: tuple[str, ...] = (
    "settings.hospital.beds_per_1000",
    "settings.sop.beds_per_1000",
    "settings.home_treatment.slots_per_1000",
    "episodes.post_discharge.excess_episodes",
    "costs.hospital_bed_day_dkk",
)
#: The outcomes the plain-words answer speaks of: (kpi, noun, unit scale, number format).
ANSWER_KPIS: tuple[tuple[str, str, float, str], ...] = (
    ("readmissions_30d", "readmissions within 30 days", 1.0, "{:,.0f}"),
    ("delayed_discharge_days", "delayed-discharge bed-days", 1.0, "{:,.0f}"),
    ("cost_total_dkk", "DKK million of total cost", 1e-6, "{:,.1f}"),
)
#: Files an uploaded scenario may extend or name without uploading them: the neighbours
#: `sektorsim init` writes, and the shipped folders `configs/teaching.yaml` refers to.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "base.yaml": ("configs", "denmark", "base.yaml"),
    "teaching.csv": ("configs", "geography", "teaching.csv"),
    "denmark": ("configs", "denmark"),
    "geography": ("configs", "geography"),
}
RUN_LOCK = threading.Lock()  # one simulation at a time in this server, whoever clicks


@dataclass(frozen=True)
class Pair:
    """A shipped today-vs-reform pair and the overrides that make it run in seconds."""

    key: str
    label: str
    today: Path
    reform: Path
    scale: bool = False  # offer population.scale (national defaults)


def shipped_pairs() -> dict[str, Pair]:
    """The shipped pairs, with absolute paths so a run directory replays from anywhere."""
    configs = shipped_root() / "configs"
    return {
        "teaching": Pair(
            "teaching",
            "Teaching geography (3 municipalities, one hospital)",
            configs / "teaching.yaml",
            configs / "teaching-reform.yaml",
        ),
        "national": Pair(
            "national",
            "National defaults (98 municipalities), reduced scale",
            configs / "denmark" / "current.yaml",
            configs / "denmark" / "reform.yaml",
            scale=True,
        ),
    }


def error_text(err: ConfigError) -> str:
    """The message the CLI prints for bad input (`sim.cli.fail_on_bad_input`)."""
    return f"error: {err}"


def load(path: Path, overrides: list[str] | None = None) -> ScenarioSpec:
    """Load and validate one scenario as `sektorsim validate` does (ConfigError if bad)."""
    return load_scenario(path, overrides or [])


def save_upload(name: str, data: bytes, inputs: Path) -> Path:
    """Store an uploaded scenario in a new folder beside the files it may extend."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).name) or "scenario.yaml"
    folder = inputs / f"upload-{dt.datetime.now():%Y%m%d-%H%M%S-%f}"
    folder.mkdir(parents=True)
    root = shipped_root()
    for link, parts in NEIGHBOURS.items():
        if link != safe:
            target = root.joinpath(*parts)
            try:
                (folder / link).symlink_to(target, target_is_directory=target.is_dir())
            except OSError:  # no symlinks here: copy instead
                (shutil.copytree if target.is_dir() else shutil.copy)(target, folder / link)
    path = folder / safe
    path.write_bytes(data)
    return path


@dataclass
class Request:
    """One comparison as the page describes it."""

    today: Path
    reform_base: Path  # the file the reform side extends (a shipped reform, or `today`)
    reform_name: str | None  # a new scenario name when the reform side extends `today`
    levers: dict[str, bool]
    reform_date: str
    replications: int
    seed: int | None = None
    overrides: list[str] = field(default_factory=list)  # applied to both scenarios, as --set
    workers: int = 1


def lever_fields() -> dict[str, str]:
    """Each reform lever of the schema with its description."""
    return {name: f.description or name for name, f in Levers.model_fields.items()}


def slider_specs(spec: ScenarioSpec) -> list[dict]:
    """The key parameters that have a numeric value and a documented range, with evidence."""
    found = {r["parameter"]: r for r in parameter_rows(spec.scenario)}
    out = []
    for path in KEY_PARAMETERS:
        row = found.get(path)
        node = spec.scenario
        for part in path.split("."):
            node = getattr(node, part, None)
        value = getattr(node, "value", None)
        if row is None or node is None or node.range is None or not isinstance(value, (int, float)):
            continue
        low, high = node.range
        step = 10 ** math.floor(math.log10((high - low) / 100)) if high > low else 0.01
        out.append(
            {
                "path": path,
                "value": float(value),
                "low": float(low),
                "high": float(high),
                "step": step,
                "evidence": f"{row['evidence']}: {row['text']}" if row["text"] else row["evidence"],
            }
        )
    return out


def write_reform_file(request: Request, folder: Path) -> Path:
    """The reform side as a small YAML file: the base reform with the page's levers and date.

    JSON is YAML, so the file is written as JSON below a comment saying where it came from.
    """
    body: dict = {"extends": str(request.reform_base.resolve())}
    if request.reform_name:
        body["name"] = request.reform_name
    body["regime"] = {"reform_date": request.reform_date, "levers": dict(request.levers)}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reform.yaml"
    path.write_text(
        "# Written by `sektorsim ui`: the reform side of one comparison.\n"
        + json.dumps(body, indent=2)
        + "\n",
        encoding="utf-8",
    )
    return path


class ProgressSink(io.TextIOBase):
    """A file for a rich Console: keeps the latest `done/total` the run's progress bar drew."""

    PATTERN = re.compile(r"(\d+)/(\d+)")

    def __init__(self) -> None:
        super().__init__()
        self.done = 0
        self.total = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        for done, total in self.PATTERN.findall(text):
            self.done, self.total = int(done), int(total)
        return len(text)


@dataclass
class Result:
    """A finished comparison: where it is and what the page shows."""

    run_dir: Path
    answer: list[str]
    header: list[str]
    rows: list[list[str]]
    figures: list[Path]
    seconds: float


def run_comparison(
    request: Request, out_dir: Path, on_progress: Callable[[float, str], None]
) -> Result:
    """Run today vs reform with common random numbers, write the run directory as
    `sektorsim run` does (figures and report included), and read back what the page shows.

    Raises ConfigError for bad input and RuntimeError if another run holds the lock.
    """
    if not RUN_LOCK.acquire(blocking=False):
        raise RuntimeError("a run is already in progress; wait for it to finish")
    try:
        start = time.monotonic()
        reform_file = write_reform_file(request, out_dir.parent / f".{out_dir.name}-inputs")
        sink = ProgressSink()
        console = Console(file=sink, force_terminal=True, width=200, color_system=None)
        box: dict = {}

        def work() -> None:
            try:
                box["kpis"] = execute_run(
                    [request.today, reform_file],
                    out_dir,
                    request.replications,
                    request.seed,
                    "numba",
                    request.workers,
                    request.overrides,
                    False,
                    console,
                )
                box["stage"] = "figures"
                finish(out_dir, no_report=False, quiet=True)
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = e

        worker = threading.Thread(target=work, name="sektorsim-ui-run", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.3)
            if box.get("stage") == "figures":
                on_progress(0.9, "drawing the figures and writing the report")
            elif sink.total:
                on_progress(
                    0.85 * sink.done / sink.total,
                    f"simulating: {sink.done} of {sink.total} scenario-replications done",
                )
            else:
                on_progress(
                    0.0,
                    "loading configs and the kernel (the first run compiles it, about a minute)",
                )
        if "error" in box:
            raise box["error"]
        on_progress(1.0, "done")
        return read_result(out_dir, time.monotonic() - start)
    finally:
        RUN_LOCK.release()


def read_result(run_dir: Path, seconds: float = math.nan) -> Result:
    """Answer, table and figures of a finished run directory."""
    kpis = pl.read_parquet(run_dir / "kpis.parquet").filter(pl.col("draw") == 0)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    header, rows = comparison_rows(kpis)
    figures = sorted((run_dir / "figures").glob("*.png"))
    return Result(run_dir, answer_sentences(kpis, manifest), header, rows, figures, seconds)


def _fmt_interval(fmt: str, lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return "(one replication: no interval)"
    return f"[{fmt.format(lo)}, {fmt.format(hi)}]"


def answer_sentences(kpis: pl.DataFrame, manifest: dict) -> list[str]:
    """The comparison in plain words: per year of the reporting window, with 95% intervals."""
    names = list(dict.fromkeys(kpis["scenario"].to_list()))
    if len(names) < 2:
        return [f"Only one scenario ({names[0]}): nothing to compare."]
    base, other = names[0], names[1]
    comp = comparison(whole_window(kpis), [base, other], [k for k, _, _, _ in ANSWER_KPIS])
    first = manifest["scenarios"][0]["config"]["simulation"]
    reform = next(s["config"] for s in manifest["scenarios"] if s["name"] == other)
    start, end = dt.date.fromisoformat(first["start"]), dt.date.fromisoformat(first["end"])
    years = (end - start).days / 365.25
    reps = manifest["replications"]
    intro = (
        f"{other} vs {base}, {start} to {end} (levers from {reform['regime']['reform_date']}), "
        f"{reps} replication{'s' if reps != 1 else ''} with common random numbers; "
        "per year, 95% confidence interval:"
    )
    lines = [intro]
    for kpi, noun, scale, fmt in ANSWER_KPIS:
        row = comp.filter((pl.col("kpi") == kpi) & (pl.col("scenario") == other))
        if row.is_empty() or row["diff"][0] is None or math.isnan(row["diff"][0]):
            continue
        factor = scale / years
        d, lo, hi = (row[c][0] for c in ("diff", "diff_low", "diff_high"))
        lo = None if lo is None else lo * factor
        hi = None if hi is None else hi * factor
        d *= factor
        if d < 0:
            text = f"the reform avoids {fmt.format(-d)} {noun} a year " + _fmt_interval(
                fmt, None if hi is None else -hi, None if lo is None else -lo
            )
        elif d > 0:
            text = f"the reform adds {fmt.format(d)} {noun} a year " + _fmt_interval(fmt, lo, hi)
        else:
            text = f"the reform changes the {noun} by nothing"
        if lo is not None and hi is not None and not math.isnan(lo) and lo <= 0 <= hi and d != 0:
            text += " — the interval includes no change, so this run cannot tell it from chance"
        lines.append(text[0].upper() + text[1:] + ".")
    return lines


def zip_run(run_dir: Path) -> bytes:
    """The run directory as a zip whose top folder is the run's name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(run_dir.rglob("*")):
            if path.is_file():
                zf.write(path, Path(run_dir.name) / path.relative_to(run_dir))
    return buffer.getvalue()


def new_run_dir(results: Path) -> Path:
    """A fresh run directory name under the page's results folder."""
    stem = results / f"run-{dt.datetime.now():%Y%m%d-%H%M%S}"
    path, n = stem, 1
    while path.exists():
        n += 1
        path = stem.with_name(f"{stem.name}-{n}")
    return path
