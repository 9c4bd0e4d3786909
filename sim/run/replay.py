"""`sektorsim replay RUN_DIR`: rerun a run from its manifest and compare the outputs.

The manifest holds each scenario's resolved config (not the files, which may have
changed since), the geography file with its hash, the seed, the replications and the
engine. The rerun's kpis.parquet must have the same bytes; if not, the differing
tasks and columns are named.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from sim.config.geography import load_geography
from sim.config.schema import Scenario
from sim.config.shipped import shipped_root
from sim.errors import Problem, RunDirError
from sim.files import read_parquet, sha256
from sim.outputs.kpis import KEY_COLUMNS
from sim.outputs.manifest import MANIFEST, read_manifest
from sim.outputs.practices import sort_practices
from sim.progress import task_bar
from sim.run.runner import ENGINES, ScenarioSpec, Task, run_tasks, sort_kpis

__all__ = ["read_manifest", "replay", "specs_from_manifest"]


def recorded_path(text: str) -> Path:
    """A path as the manifest records it: absolute, or relative to the directory the run
    was made in; a relative one not found here is looked for in the shipped files (the
    repository, or the installed package), so a shipped config replays from anywhere."""
    path = Path(text)
    if path.is_absolute() or path.exists():
        return path
    shipped = shipped_root() / path
    return shipped if shipped.exists() else path


def specs_from_manifest(manifest: dict, where: str) -> list[ScenarioSpec]:
    """Rebuild each scenario from its record; anything missing or changed is a RunDirError."""
    specs = []
    for i, entry in enumerate(manifest["scenarios"]):

        def fail(field: str, message: str, i: int = i) -> RunDirError:
            return RunDirError([Problem(where, None, f"scenarios[{i}].{field}", message)])

        if not entry.get("geography"):
            raise fail("geography", "missing: this manifest cannot be replayed")
        geo_path = recorded_path(entry["geography"]["file"])
        if not geo_path.is_file():
            raise fail(
                "geography.file",
                f"{geo_path} not found (replay from the directory the run was made in)",
            )
        if sha256(geo_path) != entry["geography"]["sha256"]:
            raise fail("geography.file", f"{geo_path} has changed since the run")
        try:
            scenario = Scenario.model_validate(entry["config"])
        except ValidationError as e:
            first = e.errors()[0]
            raise fail("config." + ".".join(str(p) for p in first["loc"]), first["msg"]) from None
        geo, coord_path = load_geography(geo_path), None
        if "coordinates" in entry["geography"]:
            coord_path = recorded_path(entry["geography"]["coordinates"])
            if not coord_path.is_file():
                raise fail("geography.coordinates", f"{coord_path} not found")
            if sha256(coord_path) != entry["geography"]["coordinates_sha256"]:
                raise fail("geography.coordinates", f"{coord_path} has changed since the run")
            geo = geo.with_coordinates(coord_path)
        files = tuple(entry["files"])
        specs.append(ScenarioSpec(scenario, entry["config"], files, geo_path, geo, coord_path))
    return specs


def differences(old: pl.DataFrame, new: pl.DataFrame, limit: int = 10) -> list[str]:
    """Human-readable list of tasks and columns that differ."""
    keys = list(KEY_COLUMNS)
    if old.columns != new.columns:
        return [f"columns differ: {sorted(set(old.columns) ^ set(new.columns))}"]
    if old.height != new.height:
        return [f"row counts differ: {old.height} vs {new.height}"]
    out = []
    for col in old.columns:
        if col in keys:
            continue
        a, b = old[col], new[col]
        unequal = ~((a == b) | (a.is_null() & b.is_null())).fill_null(False)
        if unequal.any():
            rows = (
                old.filter(unequal)
                .select("scenario", "replication")
                .unique()
                .sort(["scenario", "replication"])
            )
            tasks = ", ".join(f"{s}#{r}" for s, r in rows.iter_rows())
            out.append(f"column {col}: {int(unequal.sum())} rows differ (tasks {tasks})")
    return out[:limit] or ["files differ in bytes but not in values (metadata)"]


def manifest_tasks(manifest: dict, n_specs: int) -> list[Task]:
    """Every task of a run or batch; scenario_index points into the manifest's scenarios."""
    reps = manifest["replications"]
    if manifest["kind"] != "batch":
        return [Task(i, r) for r in range(reps) for i in range(n_specs)]
    n_draws = len(manifest["draws"])
    return [
        Task(s * n_draws + d, r, d)
        for r in range(reps)
        for s in range(n_specs // n_draws)
        for d in range(n_draws)
    ]


def replay(run_dir: Path, workers: int = 1, sample: int | None = None) -> tuple[bool, list[str]]:
    """Rerun all tasks (or a fixed sample of K) and compare them with the stored table."""
    manifest = read_manifest(run_dir, ("run", "batch"), "replayed (replay the runs it was made of)")
    if manifest["engine"] not in ENGINES:
        raise RunDirError([Problem(str(run_dir / MANIFEST), None, "engine", "unknown engine")])
    kpis_file = (
        run_dir / manifest["outputs"]["kpis"]["file"] if "kpis" in manifest["outputs"] else None
    )
    if kpis_file is None:
        raise RunDirError([Problem(str(run_dir / MANIFEST), None, "outputs", "no kpis output")])
    stored = read_parquet(kpis_file, RunDirError, KEY_COLUMNS)  # before re-running anything
    specs = specs_from_manifest(manifest, str(run_dir / MANIFEST))
    tasks = manifest_tasks(manifest, len(specs))
    if sample is not None and sample < len(tasks):
        tasks = sorted(
            random.Random(0).sample(tasks, sample), key=lambda t: (t.replication, t.scenario_index)
        )
    with task_bar(f"replay {run_dir.name}", len(tasks)) as advance:
        results = run_tasks(
            specs,
            tasks,
            manifest["seed"],
            manifest["engine"],
            workers=workers,
            on_done=lambda task, table: advance(),
        )
    new = sort_kpis(pl.concat([t.kpis for t in results]))
    old = stored
    chosen = pl.DataFrame(
        {
            "scenario": [specs[t.scenario_index].name for t in tasks],
            "draw": [t.draw for t in tasks],
            "replication": [t.replication for t in tasks],
        }
    )
    old = sort_kpis(old.join(chosen, on=["scenario", "draw", "replication"], how="semi"))
    notes = []
    if sha256(kpis_file) != manifest["outputs"]["kpis"]["sha256"]:
        notes.append(f"{kpis_file.name} no longer matches its hash in the manifest")
    notes += check_practices(run_dir, manifest, chosen, results)
    if old.equals(new) and not notes:
        return True, []
    return False, [*notes, *(differences(old, new) if not old.equals(new) else [])]


def check_practices(run_dir: Path, manifest: dict, chosen: pl.DataFrame, results) -> list[str]:
    """The practice table, when the run wrote one: its hash, and its rows against the rerun."""
    entry = manifest["outputs"].get("practices")
    if entry is None:
        return []
    path = run_dir / entry["file"]
    stored = read_parquet(path, RunDirError, ("scenario", "draw", "replication", "practice"))
    notes = []
    if sha256(path) != entry["sha256"]:
        notes.append(f"{path.name} no longer matches its hash in the manifest")
    keys = ["scenario", "draw", "replication"]
    old = sort_practices(stored.join(chosen, on=keys, how="semi"))
    new = sort_practices(pl.concat([t.practices for t in results]))
    if not old.equals(new):
        notes.append(f"{path.name}: the rerun's practice rows differ from the stored ones")
    return notes
