"""The `sektorsim` command line. Bad input exits with code 2 and a message, never a traceback."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.console import (
    Backend,
    Engine,
    FigureFormat,
    comparison_records,
    err,
    finish,
    incremental_table,
    out,
    print_json,
    summary_table,
    write_reports,
)
from sim.errors import ConfigError, OptionError, RunDirError
from sim.files import output_lock

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="Simulate elderly and chronic patients across Danish hospitals, intermediate care, "
    "home treatment and general practice, under today's split responsibility or the 2024 reform.",
)


def _version(value: bool) -> None:
    if value:
        from sim import __version__

        out.print(f"sektorsim {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Simulate elderly and chronic patients across Danish hospitals, intermediate care,
    home treatment and general practice, under today's split responsibility or the 2024
    reform."""


def fail_on_bad_input(fn: Callable) -> Callable:
    """Turn ConfigError into a one-paragraph message and exit code 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConfigError as e:
            # escaped: messages quote user input and ranges like [low, high], not markup
            err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


ConfigArgs = Annotated[
    list[Path],
    typer.Argument(help="Scenario YAML files; several are compared with common random numbers."),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace the sektorsim run directory at --out (refused if it holds files sektorsim "
        "did not write). Without it an existing run is never overwritten.",
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override a field, e.g. `--set settings.sop.beds_per_1000=4` (repeatable)."
    ),
]


def check_seed(seed: int | None) -> None:
    """Seeds feed 64-bit generators and Int64 columns: larger ones would overflow."""
    if seed is not None and seed > 2**63 - 1:
        raise OptionError.single("--seed", f"must be at most {2**63 - 1:,}, got {seed:,}")


@app.command()
@fail_on_bad_input
def validate(configs: ConfigArgs, set_: SetOpt = None) -> None:
    """Check configs: every problem with its file, line and field; exit code 2 if any.

    Example: `sektorsim validate configs/denmark/current.yaml`
    """
    from sim.run.runner import load_scenario

    problems = []
    for path in configs:
        try:
            spec = load_scenario(path, set_ or [])
            out.print(
                f"[green]ok[/] {path} (scenario {spec.name!r}, {spec.geography.n} municipalities)"
            )
        except ConfigError as e:
            problems.extend(p for p in e.problems if p not in problems)  # a shared base once
    if problems:
        raise ConfigError(problems)


@app.command()
@fail_on_bad_input
def run(
    configs: ConfigArgs,
    out_dir: Annotated[Path, typer.Option("--out", help="Run directory to write.")] = Path(
        "results/latest"
    ),
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: the config's).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Master seed (default: the first config's).")
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="numba (fast core) or simpy (reference model).")
    ] = Engine.numba,
    workers: Annotated[int, typer.Option(min=1, help="Processes to use.")] = 2,
    set_: SetOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar or table.")] = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Skip figures and report.html.")
    ] = False,
    as_json: JsonOpt = False,
    force: ForceOpt = False,
) -> None:
    """Run scenarios × replications; write kpis.parquet, agents.parquet, manifest.json and
    a report with figures; print a summary.

    Examples:

    - `sektorsim run configs/teaching.yaml`
    - `sektorsim run configs/denmark/current.yaml --replications 8 --out results/today`
    - `sektorsim run configs/teaching.yaml --set settings.sop.beds_per_1000=4 --engine simpy`
    """
    from sim.cli.run import execute_run
    from sim.report.drawer import figure_drawer

    if engine not in ("numba", "simpy"):
        raise OptionError.single("--engine", f"expected numba or simpy, got {engine!r}")
    check_seed(seed)
    with output_lock(out_dir), figure_drawer(not no_report and workers > 1) as drawer:
        kpis = execute_run(
            configs, out_dir, replications, seed, engine, workers, set_ or [], quiet or as_json,
            out, force,
        )  # fmt: skip
        finish(out_dir, no_report, quiet or as_json, drawer)
    if as_json:
        print_json(comparison_records(kpis))


@app.command()
@fail_on_bad_input
def params(
    config: Annotated[Path, typer.Argument(help="A scenario YAML file.")],
    set_: SetOpt = None,
    missing_only: Annotated[
        bool, typer.Option("--missing", help="Only parameters without evidence.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List every parameter with value, range and source; flag any with neither source nor
    assumption-with-range (exit 1 if there are any).

    Example: `sektorsim params configs/denmark/current.yaml`
    """
    from sim.config.evidence import rows
    from sim.run.runner import load_scenario

    spec = load_scenario(config, set_ or [])
    found = rows(spec.scenario)
    bad = [r for r in found if not r["documented"]]
    if as_json:
        print_json(bad if missing_only else found)
        raise typer.Exit(code=1 if bad else 0)
    table = Table(title=f"Parameters of {spec.name}", title_justify="left", show_lines=False)
    for col in ("parameter", "value", "range", "evidence"):
        table.add_column(col, overflow="fold")
    for r in bad if missing_only else found:
        flag = (
            r["evidence"]
            if r["documented"]
            else f"[bold red]{r['evidence']} (needs source, or assumption with range)[/]"
        )
        table.add_row(
            r["parameter"], r["value"], r["range"], f"{flag}: {r['text']}" if r["text"] else flag
        )
    out.print(table)
    out.print(
        f"{len(found)} parameters, {len(bad)} without a source or an assumption with a range."
    )
    if bad:
        raise typer.Exit(code=1)


@app.command()
@fail_on_bad_input
def decompose(
    config: Annotated[Path, typer.Argument(help="The starting bundle, usually today's regime.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Run directory to write.")] = Path(
        "results/decompose"
    ),
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: the config's).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Master seed (default: the config's).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes to use.")] = 2,
    set_: SetOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar or table.")] = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Skip figures and report.html.")
    ] = False,
    as_json: JsonOpt = False,
    force: ForceOpt = False,
) -> None:
    """Switch on each reform lever alone, then all together; report each lever's share.

    Example: `sektorsim decompose configs/denmark/current.yaml --replications 4`
    """
    from sim.report.drawer import figure_drawer
    from sim.studies.decompose import execute_decompose

    check_seed(seed)
    with output_lock(out_dir), figure_drawer(not no_report and workers > 1) as drawer:
        table = execute_decompose(
            config, out_dir, replications, seed, workers, set_ or [], quiet or as_json, out, force
        )
        finish(out_dir, no_report, quiet or as_json, drawer)
    if as_json:
        print_json(table.to_dicts())


@app.command()
@fail_on_bad_input
def batch(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML (see experiments/).")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Batch directory (default: results/<name>).")
    ] = None,
    backend: Annotated[
        Backend, typer.Option(help="local (processes here) or dask.")
    ] = Backend.local,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes (local) or Dask workers (LocalCluster).")
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish a killed batch: skip tasks already written.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar or table.")] = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Skip figures and report.html.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run every (scenario, parameter draw, replication) task of an experiment, crash-safe.

    Examples:

    - `sektorsim batch experiments/reform_vs_current.yaml`
    - `sektorsim batch experiments/sensitivity.yaml --backend dask --workers 2`
    - `sektorsim batch experiments/sensitivity.yaml --backend dask --scheduler tcp://head:8786`
    - `sektorsim batch experiments/sensitivity.yaml --resume`
    """
    import polars as pl

    from sim.outputs.analysis import incremental
    from sim.report.drawer import figure_drawer
    from sim.run.batch import BACKENDS, run_batch
    from sim.run.experiment import load_experiment
    from sim.run.preflight import check_size

    if backend not in BACKENDS:
        raise OptionError.single("--backend", f"expected local or dask, got {backend!r}")
    if scheduler and backend != "dask":
        raise OptionError.single("--scheduler", "a scheduler address needs --backend dask")
    plan = load_experiment(experiment)
    exp = plan.experiment
    tasks = exp.replications * len(plan.specs)
    check_size(plan.specs, tasks, workers, f"{len(plan.specs):,} scenario variants × "
               f"{exp.replications:,} replications", str(experiment))  # fmt: skip
    target = out_dir or Path("results") / exp.name
    with output_lock(target), figure_drawer(not no_report and workers > 1) as drawer:
        analysis = run_batch(
            plan, target, backend, workers, scheduler, resume, out, quiet or as_json
        )
        finish(target, no_report, quiet or as_json, drawer)
    if as_json:
        print_json(analysis.to_dicts())
    elif not quiet:
        comp = analysis.filter(pl.col("draw") == 0).select(
            "kpi", "scenario", "mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"
        )
        out.print(
            summary_table(
                comp, f"{plan.experiment.name}: draw 0, {plan.experiment.replications} replications"
            )
        )
        if len(plan.draws) > 1 and len(plan.scenario_names) > 1:
            out.print(incremental_table(incremental(analysis, plan.baseline), len(plan.draws)))
        written = [n for n in ("kpis", "agents", "practices", "equity", "analysis")
                   if (target / f"{n}.parquet").is_file()]  # fmt: skip
        out.print(f"Wrote {target}/: {', '.join(f'{n}.parquet' for n in written)}, manifest.json")


@app.command()
@fail_on_bad_input
def calibrate(
    config: Annotated[Path, typer.Argument(help="The scenario to calibrate (today's regime).")],
    targets: Annotated[
        Path,
        typer.Option(
            "--targets", help="Targets YAML: measures, values, intervals, sources, and what to fit."
        ),
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for the fit table, figure and manifest.")
    ] = Path("results/calibration"),
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Also write the calibrated parameter file here."),
    ] = None,
    backend: Annotated[
        Backend, typer.Option(help="local (processes here) or dask.")
    ] = Backend.local,
    workers: Annotated[int, typer.Option(min=1, help="Processes (local) or Dask workers.")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler.")
    ] = None,
    max_evaluations: Annotated[
        int | None, typer.Option(min=1, help="Cap on evaluations (default: the targets file's).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Fit nothing: compare CONFIG as it is with the targets.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar or table.")] = False,
    as_json: JsonOpt = False,
    force: ForceOpt = False,
) -> None:
    """Fit the parameters the targets file names (each an assumption with a range) to the
    targets by simulated method of moments with common random numbers; write the
    calibrated parameter file, the model-vs-target table (fit.csv) and figure (fit.png).

    Examples:

    - `sektorsim calibrate configs/denmark/base.yaml --targets configs/denmark/targets.yaml`
    - `sektorsim calibrate configs/denmark/base.yaml --targets configs/denmark/targets.yaml
      --write configs/denmark/calibrated.yaml`
    - `sektorsim calibrate configs/denmark/current.yaml --targets configs/denmark/targets.yaml
      --check`
    """
    from sim.cli.calibration import execute_calibrate
    from sim.run.batch import BACKENDS

    if backend not in BACKENDS:
        raise OptionError.single("--backend", f"expected local or dask, got {backend!r}")
    if check:
        from sim.studies.calibrate import check_config

        fit = check_config(config, targets, backend, workers, scheduler)
    else:
        with output_lock(out_dir):
            fit = execute_calibrate(
                config, targets, out_dir, write, backend, workers, scheduler, max_evaluations,
                quiet or as_json, out, force,
            )  # fmt: skip
    if as_json:
        print_json(fit.to_dicts())
    elif not quiet:
        table = Table(title="Model vs target (reporting window, national)", title_justify="left")
        for col in ("target", "model [95% CI]", "target [interval]", "inside"):
            table.add_column(col, justify="right" if col != "target" else "left")
        for r in fit.iter_rows(named=True):
            model = (
                "not modelled"
                if r["model_mean"] is None
                else f"{r['model_mean']:,.4g} [{r['model_low']:,.4g}, {r['model_high']:,.4g}]"
            )
            inside = "–" if r["inside"] is None else ("yes" if r["inside"] else "[bold red]no[/]")
            table.add_row(
                r["target"],
                model,
                f"{r['target_value']:,.4g} [{r['target_low']:,.4g}, {r['target_high']:,.4g}]",
                inside,
            )
        out.print(table)
        if not check:
            out.print(
                f"Wrote {out_dir}/fit.csv, fit.png, calibrated.yaml, history.parquet and "
                "manifest.json" + (f"; parameters in {write}" if write else ""),
                highlight=False,
            )


@app.command(name="validate-model")
@fail_on_bad_input
def validate_model(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for report.html and validation.json.")
    ] = Path("results/validation"),
    quick: Annotated[
        bool, typer.Option("--quick", help="Small versions of every check (about a minute).")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, help="Processes to use.")] = 2,
) -> None:
    """Write the validation report reviewers read: queueing theory (Erlang, Little's law),
    numba core vs the SimPy reference, calibration fit, patient traces and the pathways
    with counts, and the sensitivity of the reform effect to every assumption (one at a
    time and Morris).

    Examples:

    - `sektorsim validate-model`
    - `sektorsim validate-model --quick --out /tmp/validation`
    """
    from sim.files import check_output
    from sim.validation.report import write_validation_report

    with output_lock(out_dir), err.status("validating the model") as status:
        # its own earlier report may be replaced; nothing else
        check_output(out_dir, force=True, marker="validation.json")
        path = write_validation_report(
            out_dir,
            quick=quick,
            workers=workers,
            progress=lambda step: status.update(f"validating the model: {step}"),
        )
    out.print(f"Wrote {path}", highlight=False)


@app.command()
@fail_on_bad_input
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run or batch directory.")],
    formats: Annotated[
        list[FigureFormat] | None,
        typer.Option("--format", help="Figure formats to write (repeat; default png, svg, pdf)."),
    ] = None,
    svg: Annotated[bool, typer.Option("--svg", hidden=True, help="Kept for old scripts.")] = False,
) -> None:
    """Draw the figures (300 dpi PNG, SVG, PDF) and write report.html (self-contained) and
    report.md.

    Example: `sektorsim report results/latest --format png --format pdf`
    """
    from pydantic import ValidationError

    from sim.config.schema import Scenario
    from sim.files import read_parquet
    from sim.outputs.kpis import KEY_COLUMNS
    from sim.outputs.manifest import read_manifest
    from sim.report.drawer import figure_drawer

    # every input checked before the first figure is drawn
    manifest = read_manifest(run_dir, ("run", "batch", "decompose"), "reported on")
    if "kpis" not in manifest["outputs"]:
        raise RunDirError.single(
            "outputs", "no kpis output to report on", str(run_dir / "manifest.json")
        )
    read_parquet(run_dir / manifest["outputs"]["kpis"]["file"], RunDirError, (*KEY_COLUMNS, "draw"))
    try:
        Scenario.model_validate(manifest["scenarios"][0]["config"])
    except (IndexError, ValidationError) as e:
        raise RunDirError.single("scenarios[0].config", f"not a valid scenario: {e}",
                                 str(run_dir / "manifest.json")) from None  # fmt: skip
    chosen = tuple(dict.fromkeys(["png", *(f.value for f in formats or list(FigureFormat))]))
    with figure_drawer(True) as drawer:
        path = write_reports(run_dir, chosen, drawer=drawer)
    out.print(
        f"Wrote {path}, {run_dir / 'report.md'} and {run_dir / 'stress-des.md'} "
        f"(figures in {run_dir / 'figures'})",
        highlight=False,
    )


@app.command()
@fail_on_bad_input
def replay(
    run_dir: Annotated[Path, typer.Argument(help="A run or batch directory with manifest.json.")],
    workers: Annotated[int, typer.Option(min=1, help="Processes to use.")] = 2,
    sample: Annotated[
        int | None, typer.Option(min=1, help="Rerun only K tasks (a fixed sample).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rerun a run or batch from its manifest; print `identical` (exit 0) or what differs (exit 1).

    Examples: `sektorsim replay results/published/teaching`,
    `sektorsim replay results/sensitivity --sample 4`
    """
    from sim.run.replay import replay as do_replay

    same, diffs = do_replay(run_dir, workers, sample)
    if as_json:
        print_json({"identical": same, "differences": diffs})
        raise typer.Exit(code=0 if same else 1)
    if same:
        out.print("identical")
        return
    out.print("[bold red]different[/]")
    for line in diffs:
        out.print(f"  {line}", highlight=False)
    raise typer.Exit(code=1)


@app.command()
@fail_on_bad_input
def init(
    directory: Annotated[Path, typer.Argument(help="A new (or empty) directory for your configs.")],
) -> None:
    """Copy an annotated starter scenario (today and reform), the national defaults it
    extends and a small geography into DIRECTORY, ready to edit and run.

    Example: `sektorsim init my-study && sektorsim run my-study/scenario.yaml my-study/reform.yaml`
    """
    from sim.config.shipped import write_starter

    written = write_starter(directory)
    out.print(
        f"Wrote {', '.join(p.name for p in written)} into {directory}. Next:", highlight=False
    )
    out.print(
        f"  sektorsim run {directory / 'scenario.yaml'} {directory / 'reform.yaml'} --out "
        f"{directory / 'run'}",
        highlight=False,
    )


@app.command(name="list")
def list_shipped(as_json: JsonOpt = False) -> None:
    """Show the shipped scenario configs and batch experiments, with what each is for.

    Example: `sektorsim list`
    """
    from sim.config import shipped

    found = shipped.list_shipped()
    if as_json:
        print_json(found)
        return
    for kind, rows in found.items():
        table = Table(title=f"Shipped {kind}", title_justify="left")
        for col in ("file", "name", "description"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(r["file"], r["name"], r["description"])
        out.print(table)


@app.command()
@fail_on_bad_input
def trace(
    config: Annotated[Path, typer.Argument(help="A scenario YAML file.")],
    patients: Annotated[int, typer.Option(min=1, max=50, help="How many patients to follow.")] = 5,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Master seed (default: the config's).")
    ] = None,
    replication: Annotated[int, typer.Option(min=0, help="Which replication's patients.")] = 0,
    include_quiet: Annotated[
        bool, typer.Option("--include-quiet", help="Also patients never admitted.")
    ] = False,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Follow a few patients through the system, event by event (admission, delayed
    discharge, step-down, home treatment, readmission, death), to learn the pathways.

    Examples:

    - `sektorsim trace configs/teaching.yaml --patients 5`
    - `sektorsim trace configs/teaching-reform.yaml --patients 3 --seed 1 --json`
    """
    import dataclasses

    from sim.run.runner import compile_kernel, load_scenario
    from sim.run.trace import trace_patients

    spec = load_scenario(config, set_ or [])
    seed = spec.scenario.simulation.seed if seed is None else seed
    compile_kernel()
    who, events = trace_patients(spec, seed, replication, patients, include_quiet)
    if as_json:
        print_json(
            {
                "scenario": spec.name,
                "seed": seed,
                "replication": replication,
                "patients": [
                    {
                        "patient": p,
                        **w,
                        "events": [dataclasses.asdict(e) for e in events if e.patient == p],
                    }
                    for p, w in who.items()
                ],
            }
        )
        return
    for p, w in who.items():
        table = Table(
            title=f"Patient {p}: aged {w['age']} at the start, {w['group']}, {w['frailty']}, "
            f"lives in {w['municipality']}",
            title_justify="left",
        )
        for col in ("date", "period", "what happens", "where"):
            table.add_column(col, overflow="fold")
        for e in (e for e in events if e.patient == p):
            text = f"[bold]{e.event}[/]" if e.readmission else e.event
            table.add_row(e.date, e.period, text, f"{e.place}" + (f" ({e.unit})" if e.unit else ""))
        out.print(table)
    out.print(
        f"{spec.name}, seed {seed}, replication {replication}: {len(who)} patients shown, "
        "chosen from a fixed random sample of the population.",
        highlight=False,
    )


@app.command()
@fail_on_bad_input
def ui(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    host: Annotated[
        str, typer.Option(help="Address to bind (default: this machine only).")
    ] = "127.0.0.1",
    results: Annotated[
        Path, typer.Option("--results", help="Folder for the page's run directories.")
    ] = Path("results/ui"),
    workers: Annotated[int, typer.Option(min=1, help="Processes per run.")] = 1,
) -> None:
    """Start a local web page for students: choose a config, toggle the reform's levers,
    run today vs reform and download the run directory (needs the `ui` extra).

    Example: `sektorsim ui --port 8765`
    """
    from sim.ui.serve import serve

    serve(host, port, results, workers, announce=lambda text: out.print(text, highlight=False))


#: How long SIGTERM's unwinding may take before the process ends itself.
TERMINATE_SECONDS = 45.0


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C: workers are stopped and the staged output removed.

    An interrupt raised at an arbitrary point can leave a lock held (between a lock's
    acquire and its `with` block), and the unwinding would then wait for it forever; a
    daemon timer ends the process if it is still running after TERMINATE_SECONDS."""
    import os
    import threading

    timer = threading.Timer(TERMINATE_SECONDS, os._exit, args=(128 + signum,))
    timer.daemon = True
    timer.start()
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    app(prog_name="sektorsim")


if __name__ == "__main__":
    sys.exit(main())
