"""`sektorsim calibrate`: run the fit, write its outputs and a manifest that records the command."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from rich.console import Console

from sim.files import sha256, staged_directory, write_json, write_parquet, write_text
from sim.outputs.manifest import MANIFEST, build_manifest
from sim.report.figures import calibration_fit, plt
from sim.studies.calibrate import calibrate, calibrated_yaml, load_targets


def execute_calibrate(
    config: Path,
    targets: Path,
    out_dir: Path,
    write: Path | None,
    backend: str,
    workers: int,
    scheduler: str | None,
    max_evaluations: int | None,
    quiet: bool,
    console: Console,
    force: bool = False,
) -> pl.DataFrame:
    from sim.files import check_output
    from sim.progress import progress
    from sim.run.batch import executor
    from sim.run.runner import compile_kernel, load_scenario

    spec_t = load_targets(targets)  # every input error before any work
    load_scenario(config, spec_t.fit.set)
    check_output(out_dir, force)
    budget = max_evaluations or spec_t.fit.max_evaluations
    compile_kernel()
    with executor(backend, workers, scheduler) as pool, progress(console, quiet) as bar:
        job = bar.add_task(f"calibrate ({len(spec_t.fit.parameters)} parameters)", total=budget)
        result = calibrate(
            config,
            targets,
            pool,
            on_evaluation=lambda n, loss: bar.update(
                job, completed=min(n, budget), description=f"calibrate (loss {loss:.2f})"
            ),
            max_evaluations=budget,
        )
    command = " ".join(
        ["sektorsim calibrate", str(config), "--targets", str(targets)]
        + (["--max-evaluations", str(max_evaluations)] if max_evaluations else [])
    )

    def parameter_file(where: Path) -> str:  # `extends:` is relative to the file's own directory
        return calibrated_yaml(
            result, os.path.relpath(config.resolve(), where.resolve()), command, spec_t.fit.seed
        )

    with staged_directory(out_dir) as stage:
        result.fit.write_csv(stage / "fit.csv")
        write_parquet(result.fit, stage / "fit.parquet")
        write_parquet(result.history, stage / "history.parquet")
        figure = calibration_fit(result.fit)
        figure.savefig(stage / "fit.png")
        plt.close(figure)
        write_text(parameter_file(out_dir), stage / "calibrated.yaml")
        info = {
            "seed": spec_t.fit.seed,
            "replications": spec_t.fit.replications,
            "engine": "numba",
            "targets": {"file": str(targets), "sha256": sha256(targets)},
            "config": str(config),
            "parameters": dict(zip([p.path for p in result.parameters], result.best)),
            "evaluations": result.evaluations,
        }
        write_json(
            build_manifest(
                "calibration",
                info,
                {"fit": stage / "fit.parquet", "history": stage / "history.parquet"},
            ),
            stage / MANIFEST,
        )
    if write is not None:
        write_text(parameter_file(write.parent), write)
    return result.fit
