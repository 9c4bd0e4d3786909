"""`sektorsim calibrate`: run the fit, write its outputs and a manifest that records the command."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from rich.console import Console

from sim.calibrate import MEASURE_LABELS, calibrate, calibrated_yaml, check_targets, load_targets
from sim.manifest import MANIFEST, build_manifest
from sim.output import sha256, staged_directory, write_json, write_parquet, write_text


def fit_figure(fit: pl.DataFrame, path: Path) -> None:
    """Each target's interval and the model's mean with its 95% CI, as a ratio to the target."""
    from sim.figures import _style, plt

    _style()
    rows = fit.filter(pl.col("model_mean").is_not_null())
    fig, ax = plt.subplots(figsize=(9, 0.55 * rows.height + 1.8))
    for i, r in enumerate(rows.iter_rows(named=True)):
        v = r["target_value"]
        ax.plot([r["target_low"] / v, r["target_high"] / v], [i, i], color="0.75", linewidth=8, solid_capstyle="butt",
                label="target interval" if i == 0 else None)
        lo, hi = r["model_low"], r["model_high"]
        err = None if lo is None or lo != lo else [[(r["model_mean"] - lo) / v], [(hi - r["model_mean"]) / v]]
        ax.errorbar(r["model_mean"] / v, i, xerr=err, fmt="o", color="C0" if r["inside"] else "C3",
                    label="model, 95% CI" if i == 0 else None)
    labels = [f"{r['target']}: {MEASURE_LABELS[r['measure']]}" + (f" ({r['group']})" if r["group"] != "all" else "")
              for r in rows.iter_rows(named=True)]
    ax.set_yticks(range(rows.height), labels, fontsize=8)
    ax.axvline(1.0, color="0.3", linewidth=0.8)
    ax.set(title="Calibration: model vs targets", xlabel="value / target value")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.text(0.0, -0.02, "Grey: the target's stated interval. Red: the model misses it.", fontsize=8, color="0.35",
             transform=fig.transFigure)
    fig.savefig(path)
    plt.close(fig)


def execute_calibrate(config: Path, targets: Path, out_dir: Path, write: Path | None, backend: str, workers: int,
                      scheduler: str | None, max_evaluations: int | None, quiet: bool, console: Console) -> pl.DataFrame:
    from sim.batch import executor
    from sim.cli import progress
    from sim.runner import compile_kernel, load_scenario

    spec_t = load_targets(targets)  # every input error before any work
    load_scenario(config, spec_t.fit.set)
    budget = max_evaluations or spec_t.fit.max_evaluations
    compile_kernel()
    with executor(backend, workers, scheduler) as pool, progress(console, quiet) as bar:
        job = bar.add_task(f"calibrate ({len(spec_t.fit.parameters)} parameters)", total=budget)
        result = calibrate(config, targets, pool, on_evaluation=lambda n, loss: bar.update(
            job, completed=min(n, budget), description=f"calibrate (loss {loss:.2f})"), max_evaluations=budget)
    command = " ".join(["sektorsim calibrate", str(config), "--targets", str(targets)]
                       + (["--max-evaluations", str(max_evaluations)] if max_evaluations else []))
    def parameter_file(where: Path) -> str:  # `extends:` is relative to the file's own directory
        return calibrated_yaml(result, os.path.relpath(config.resolve(), where.resolve()), command, spec_t.fit.seed)

    with staged_directory(out_dir) as stage:
        result.fit.write_csv(stage / "fit.csv")
        write_parquet(result.fit, stage / "fit.parquet")
        write_parquet(result.history, stage / "history.parquet")
        fit_figure(result.fit, stage / "fit.png")
        write_text(parameter_file(out_dir), stage / "calibrated.yaml")
        info = {"seed": spec_t.fit.seed, "replications": spec_t.fit.replications, "engine": "numba",
                "targets": {"file": str(targets), "sha256": sha256(targets)}, "config": str(config),
                "parameters": dict(zip([p.path for p in result.parameters], result.best)),
                "evaluations": result.evaluations}
        write_json(build_manifest("calibration", info, {"fit": stage / "fit.parquet", "history": stage / "history.parquet"}),
                   stage / MANIFEST)
    if write is not None:
        write_text(parameter_file(write.parent), write)
    return result.fit


def execute_check(config: Path, targets: Path, backend: str, workers: int, scheduler: str | None) -> pl.DataFrame:
    from sim.batch import executor
    from sim.runner import compile_kernel, load_scenario

    load_scenario(config, load_targets(targets).fit.set)  # every input error before any work
    compile_kernel()
    with executor(backend, workers, scheduler) as pool:
        return check_targets(config, targets, pool)

