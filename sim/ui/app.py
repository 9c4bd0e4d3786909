"""The page of `sektorsim ui` (Solara): choose a config, set the levers, run, read the answer."""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

import solara
from solara.lab import task

# Every import from the rest of sektorsim, in one block.
from sim.errors import ConfigError
from sim.ui.core import (
    Request,
    Result,
    error_text,
    lever_fields,
    load,
    new_run_dir,
    run_comparison,
    save_upload,
    shipped_pairs,
    slider_specs,
    zip_run,
)
from sim.ui.upload import FileUpload, decode

RESULTS_ENV = "SEKTORSIM_UI_RESULTS"
WORKERS_ENV = "SEKTORSIM_UI_WORKERS"
log = logging.getLogger("sektorsim.ui")

source = solara.reactive("teaching")  # a key of shipped_pairs(), or "upload"
upload_path = solara.reactive(None)  # Path of a validated upload
upload_error = solara.reactive("")
scale = solara.reactive(0.1)  # about a sixth of the country: one council per region
replications = solara.reactive(3)
seed = solara.reactive("")
levers = solara.reactive({})
reform_date = solara.reactive("")
sliders = solara.reactive({})  # parameter path -> value the student set
stage = solara.reactive("")


def results_dir() -> Path:
    """Where the page writes run directories (set by `sektorsim ui --results`)."""
    return Path(os.environ.get(RESULTS_ENV, "results/ui"))


def _common_overrides() -> list[str]:
    return [f"population.scale={scale.value:g}"] if source.value == "national" else []


def _sides() -> tuple[Path | None, Path | None, str | None]:
    """today, the file the reform side extends, and the reform side's new name (uploads)."""
    if source.value == "upload":
        path = upload_path.value
        return path, path, None
    pair = shipped_pairs()[source.value]
    return pair.today, pair.reform, None


@task
def run_task(request: Request, out_dir: Path) -> Result:
    """The comparison, in a thread: the page stays responsive and shows progress."""

    def on_progress(fraction: float, text: str) -> None:
        run_task.progress = round(100 * fraction)
        stage.value = text

    return run_comparison(request, out_dir, on_progress)


def _start() -> None:
    if run_task.pending:  # a second click while running starts nothing
        return
    today, reform_base, _ = _sides()
    if today is None:
        return
    reform_name = None
    if source.value == "upload":
        try:
            reform_name = f"{load(today).name}-reform"
        except ConfigError as e:
            upload_error.value = error_text(e)
            return
    overrides = _common_overrides() + [f"{p}={val:g}" for p, val in sorted(sliders.value.items())]
    text = seed.value.strip()
    request = Request(
        today=today,
        reform_base=reform_base,
        reform_name=reform_name,
        levers=dict(levers.value),
        reform_date=reform_date.value.strip(),
        replications=int(replications.value),
        seed=int(text) if text.isdigit() else None,
        overrides=overrides,
        workers=int(os.environ.get(WORKERS_ENV, "1")),
    )
    stage.value = "starting"
    run_task(request, new_run_dir(results_dir()))


def _on_upload(payload: dict) -> None:
    if not payload:
        return
    name, data = decode(payload)
    upload_path.value = None
    try:
        path = save_upload(name, data, results_dir() / "inputs")
        load(path)  # validated as `sektorsim validate` does
    except ConfigError as e:
        upload_error.value = error_text(e)
        return
    except OSError as e:
        upload_error.value = f"error: cannot store the upload: {e.strerror}"
        return
    upload_error.value = ""
    upload_path.value = path


@solara.component
def ConfigChooser() -> None:
    """Which scenarios to compare."""
    pairs = shipped_pairs()
    labels = {key: p.label for key, p in pairs.items()} | {
        "upload": "My own YAML file (today's regime)"
    }
    keys = {label: key for key, label in labels.items()}

    def choose(label: str) -> None:
        sliders.set({})
        source.set(keys[label])

    solara.Select(
        "Configuration",
        values=list(keys),
        value=labels[source.value],
        on_value=choose,
        disabled=run_task.pending,
    )
    if source.value == "national":
        solara.SliderFloat(
            "Population share simulated (whole health councils)",
            value=scale,
            min=0.1,
            max=1.0,
            step=0.05,
            disabled=run_task.pending,
        )
    if source.value == "upload":
        FileUpload.element(payload={}, on_payload=_on_upload)
        solara.Text(
            "A file from `sektorsim init` works alone: base.yaml and teaching.csv are found "
            "beside it, as are the shipped denmark/ and geography/ folders."
        )
        if upload_error.value:
            solara.HTML(
                tag="pre",
                unsafe_innerHTML=html.escape(upload_error.value),
                classes=["sektorsim-error"],
                style="white-space:pre-wrap;color:#b00020",
            )
        elif upload_path.value is not None:
            solara.Success(f"{upload_path.value.name}: valid")


@solara.component
def Controls(today_spec, reform_spec) -> None:
    """Levers and date of the reform side; sliders for key parameters of both sides."""
    if reform_spec is not None and not levers.value:
        return
    solara.HTML(
        tag="div",
        unsafe_innerHTML="<b>Reform levers</b> (the reform side only; hover for what each does)",
    )
    for name, description in lever_fields().items():
        with solara.Tooltip(description):
            solara.Checkbox(
                label=name.replace("_", " "),
                value=levers.value.get(name, False),
                on_value=lambda on, name=name: levers.set({**levers.value, name: on}),
                disabled=run_task.pending,
                style="margin:0;height:2.2em",
            )
    solara.InputText(
        "Reform date (levers take effect, YYYY-MM-DD)", value=reform_date, disabled=run_task.pending
    )
    solara.HTML(
        tag="div", unsafe_innerHTML="<b>Key parameters</b> (both sides; hover for the evidence)"
    )
    for s in slider_specs(today_spec):
        value = sliders.value.get(s["path"], s["value"])
        with solara.Tooltip(s["evidence"]), solara.Column(gap="0px"):
            solara.SliderFloat(
                s["path"],
                value=value,
                min=s["low"],
                max=s["high"],
                step=s["step"],
                on_value=lambda x, p=s["path"]: sliders.set({**sliders.value, p: x}),
                thumb_label="always",
                disabled=run_task.pending,
            )
            solara.Text(
                f"range {s['low']:g} – {s['high']:g} (config: {s['value']:g})",
                style="font-size:0.8em;color:#666",
            )
    solara.SliderInt(
        "Replications",
        value=replications,
        min=1,
        max=20,
        thumb_label="always",
        disabled=run_task.pending,
    )
    solara.InputText("Seed (blank: the config's)", value=seed, disabled=run_task.pending)


@solara.component
def ResultView(result: Result) -> None:
    """Answer first, then the comparison table, the figures and the download."""
    first, *rest = result.answer
    items = "".join(f"<li>{html.escape(line)}</li>" for line in rest)
    solara.HTML(
        tag="div",
        classes=["sektorsim-answer"],
        unsafe_innerHTML=f"<p>{html.escape(first)}</p><ul style='font-size:1.25em'>{items}</ul>",
    )
    solara.FileDownload(
        lambda: zip_run(result.run_dir),
        filename=f"{result.run_dir.name}.zip",
        label="Download the run directory (zip)",
    )
    solara.Text(f"Written to {result.run_dir}; check it with: sektorsim replay {result.run_dir}")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in result.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in result.rows
    )
    solara.HTML(
        tag="div",
        classes=["sektorsim-table"],
        unsafe_innerHTML=f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
    )
    for path in result.figures:
        solara.Image(path, width="100%", classes=["sektorsim-figure"])


CSS = """
.sektorsim-table table{border-collapse:collapse;font-size:.85em;margin:1em 0}
.sektorsim-table td,.sektorsim-table th{border:1px solid #ddd;padding:.25em .5em;text-align:right}
.sektorsim-table td:first-child,.sektorsim-table th:first-child{text-align:left}
.sektorsim-table th{background:#f4f4f4}
"""


@solara.component
def Page() -> None:
    solara.Title("sektorsim — today vs the 2024 reform")
    solara.Style(CSS)
    today, reform_base, _ = _sides()
    scale_key = scale.value if source.value == "national" else None

    def specs():
        if today is None:
            return None, None, ""
        try:
            over = _common_overrides()
            return load(today, over), load(reform_base, over), ""
        except ConfigError as e:
            return None, None, error_text(e)

    today_spec, reform_spec, load_error = solara.use_memo(
        specs, dependencies=[source.value, today, scale_key]
    )

    def reset_defaults():
        if reform_spec is None:
            return
        on_all = source.value == "upload"
        regime = reform_spec.scenario.regime
        levers.set(
            {name: True if on_all else getattr(regime.levers, name) for name in lever_fields()}
        )
        reform_date.set(regime.reform_date.isoformat())
        replications.set(min(3, today_spec.scenario.simulation.replications))
        seed.set(str(today_spec.scenario.simulation.seed))

    solara.use_effect(reset_defaults, [source.value, today])

    with solara.Columns([1, 2]):
        with solara.Column():
            solara.HTML(
                tag="div",
                unsafe_innerHTML="<h2>sektorsim</h2><p>Elderly and chronic patients: "
                "today's split responsibility vs the 2024 reform, with common random numbers.</p>",
            )
            ConfigChooser()
            if load_error:
                solara.HTML(
                    tag="pre",
                    unsafe_innerHTML=html.escape(load_error),
                    style="white-space:pre-wrap;color:#b00020",
                )
            if today_spec is not None:
                Controls(today_spec, reform_spec)
                solara.Button(
                    "Run today vs reform",
                    on_click=_start,
                    color="primary",
                    disabled=run_task.pending,
                    classes=["sektorsim-run"],
                )
        with solara.Column():
            if run_task.pending:
                solara.ProgressLinear(run_task.progress if run_task.progress else True)
                solara.Text(stage.value or "starting", classes=["sektorsim-stage"])
            elif run_task.error:
                e = run_task.exception
                text = error_text(e) if isinstance(e, ConfigError) else f"error: {e}"
                if not isinstance(e, (ConfigError, RuntimeError)):
                    log.error("run failed", exc_info=e)
                solara.HTML(
                    tag="pre",
                    unsafe_innerHTML=html.escape(text),
                    classes=["sektorsim-error"],
                    style="white-space:pre-wrap;color:#b00020",
                )
            elif run_task.finished and run_task.value is not None:
                ResultView(run_task.value)
            else:
                solara.Info(
                    "Choose a configuration and the levers, then run. The first run of a "
                    "session compiles the simulation kernel (about a minute)."
                )
