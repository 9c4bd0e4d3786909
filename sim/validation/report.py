"""`validation` report: the evidence a reviewer needs to decide whether to trust the model.

One self-contained HTML file (figures embedded as PNG) plus validation.json with the
numbers: (1) verification of the numba kernel against queueing theory, (2) agreement of
the numba kernel with the independent SimPy reference model, (3) the calibration fit,
(4) face validity (patient traces and the pathway counts) and (5) sensitivity of the
headline reform effect to the assumed parameters.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import io
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import seaborn as sns
from scipy import stats

from sim.config.shipped import shipped_root
from sim.files import write_json, write_text
from sim.flow.counters import C
from sim.flow.inputs import FlowInputs
from sim.flow.reduced import queue_settings, single_queue_model
from sim.measures import CROSS_VALIDATED
from sim.report.figures import calibration_fit
from sim.studies import robustness
from sim.studies.sensitivity import morris_chart, run_sensitivity, tornado
from sim.validation.equivalence import ALPHA as EQUIVALENCE_ALPHA
from sim.validation.equivalence import MARGIN_ABSOLUTE, MARGIN_RELATIVE, margin, tost
from sim.validation.pathways import pathway_figure
from sim.validation.queueing import erlang_b, mmc_mean_wait

Z_LIMIT = 4.0
#: Reported periods (batches) per queueing model: the system forgets its state within days,
#: so the batch means are nearly independent; P(|t(19)| > 4) is about 7e-4 per check.
BATCHES = 20
SECTIONS = (
    "1. Verification against queueing theory",
    "2. Cross-validation: numba kernel vs SimPy reference",
    "3. Calibration fit",
    "4. Face validity",
    "5. Sensitivity of the reform effect",
    "6. Robustness of the reform's answer",
)

# ---------------------------------------------------------------- 1. queueing theory


def _run_queue(inputs: FlowInputs, beds: int, sop_beds: int = 0):
    """Per reported period: counter totals and period lengths (days)."""
    from sim.flow.engine import NumbaEngine
    from sim.rng import streams

    eng = NumbaEngine(inputs, streams(11, 0))
    settings = queue_settings(beds, sop_beds)
    for k in range(len(inputs.periods)):
        eng.run_period(k, settings)
    rep = [k for k, p in enumerate(inputs.periods) if p.reported]
    days = np.array([inputs.periods[k].end - inputs.periods[k].start for k in rep])
    return eng.counts[rep].sum(axis=(1, 2)), days


def _single_queue(
    arrivals: float, stay: float, dist: int, length: float, stepup: bool = False
) -> FlowInputs:
    """One unit, Poisson episodes at `arrivals`/day, nothing else happening (as the kernel
    tests)."""
    return single_queue_model(
        100_000, arrivals, stay, dist, length=length, count=BATCHES, route_to_stepup=stepup
    )


def _check(
    name: str, theory: float, estimates: np.ndarray, reference: np.ndarray | None = None
) -> dict:
    """Batch means: one estimate per reported period; z against theory (or a paired reference)."""
    diff = estimates - (theory if reference is None else reference)
    se = float(diff.std(ddof=1) / np.sqrt(diff.size))
    z = float(diff.mean() / se) if se > 0 else 0.0
    shown = theory if reference is None else float(reference.mean())
    return {
        "check": name,
        "theory": shown,
        "simulated": float(estimates.mean()),
        "se": se,
        "z": z,
        "batches": int(diff.size),
        "passed": abs(z) < Z_LIMIT,
    }


def queueing_checks(quick: bool) -> list[dict]:
    """M/M/c occupancy and wait (Erlang C), step-up loss (Erlang B, 3 stay laws), Little's law."""
    length = 500.0 if quick else 1000.0  # days per batch
    out = []
    for beds, lam, stay in ((10, 1.6, 5.0), (3, 0.5, 4.0)):
        counts, days = _run_queue(_single_queue(lam, stay, 0, length), beds)
        label = f"M/M/{beds}, λ={lam}/day, mean stay {stay} d"
        out.append(
            _check(
                f"{label}: mean beds occupied = λ/μ",
                lam * stay,
                counts[:, C["hospital_bed_days"]] / days,
            )
        )
        wait = counts[:, C["admission_wait_days"]] / counts[:, C["admissions"]]
        out.append(
            _check(
                f"{label}: mean wait (days) = Erlang C", mmc_mean_wait(beds, lam, 1.0 / stay), wait
            )
        )
    for dist, law in ((0, "exponential"), (1, "lognormal"), (2, "gamma")):
        counts, _ = _run_queue(_single_queue(1.0, 5.0, dist, length, stepup=True), 1000, sop_beds=6)
        blocked = counts[:, C["stepup_blocked"]] / counts[:, C["stepup_requests"]]
        out.append(
            _check(f"step-up M/G/6/6, {law} stay: blocking = Erlang B", erlang_b(6, 5.0), blocked)
        )
    counts, days = _run_queue(_single_queue(1.2, 5.0, 1, length), 50)
    occupied = counts[:, C["hospital_bed_days"]] / days
    out.append(
        _check(
            "Little's law in hospital: L = λ·W (W = mean stay 5 d)",
            0.0,
            occupied,
            reference=counts[:, C["admissions"]] / days * 5.0,
        )
    )
    return out


# ---------------------------------------------------------------- 2. cross-validation


def cross_validation(root: Path, quick: bool) -> dict:
    """Paired replications of both engines (same streams) over a long window; each
    replication's value is the mean of its reporting periods (batch means); equivalence
    by TOST within a stated margin (`sim.validation.equivalence`)."""
    from sim.run.runner import compile_kernel, load_scenario, simulate

    compile_kernel()
    reps = 6 if quick else 20
    end = "2026-07-01" if quick else "2027-01-01"
    spec = load_scenario(root / "configs" / "teaching.yaml", [f"simulation.end={end}"])
    batches, wall = {}, {}
    for engine in ("numba", "simpy"):
        rows, start = [], time.perf_counter()
        for r in range(reps):
            eng, inputs = simulate(spec, r, seed=101, engine=engine)
            reported = [k for k, p in enumerate(inputs.periods) if p.reported]
            # per reported period (a batch), summed over areas and groups; then batch mean
            rows.append(eng.counts[reported].sum(axis=(1, 2)).mean(axis=0))
            n_batches = len(reported)
        wall[engine] = time.perf_counter() - start
        batches[engine] = np.array(rows)
    out = []
    for kpi in CROSS_VALIDATED:
        a, b = batches["numba"][:, C[kpi]], batches["simpy"][:, C[kpi]]
        d = a - b
        test = tost(d, margin(float(b.mean())))
        if np.all(d == d[0]):
            half = 0.0
        else:
            half = float(stats.t.ppf(0.975, reps - 1) * d.std(ddof=1) / np.sqrt(reps))
        out.append(
            {
                "kpi": kpi,
                "numba_mean": float(a.mean()),
                "simpy_mean": float(b.mean()),
                "diff_mean": float(d.mean()),
                "diff_low": float(d.mean() - half),
                "diff_high": float(d.mean() + half),
                "margin": test["margin"],
                "ci90_low": test["ci90_low"],
                "ci90_high": test["ci90_high"],
                "p_value": test["p_value"],
                "passed": bool(test["equivalent"]),
            }
        )
    return {
        "replications": reps,
        "batches": n_batches,
        "end": end,
        "seed": 101,
        "alpha": EQUIVALENCE_ALPHA,
        "margin_relative": MARGIN_RELATIVE,
        "margin_absolute": MARGIN_ABSOLUTE,
        "kpis": out,
        "wall_seconds": wall,
        "speed_ratio": wall["simpy"] / wall["numba"],
    }


# ---------------------------------------------------------------- 3. calibration


def calibration(root: Path) -> tuple[dict, str | None]:
    """The calibration fit table, and its figure (the shipped PNG, or drawn from the table)."""
    fit = root / "results" / "calibration" / "fit.csv"
    if not fit.is_file():
        return {"found": False, "rows": []}, None
    df = pl.read_csv(fit)
    png = fit.with_name("fit.png")
    if png.is_file():
        image = base64.b64encode(png.read_bytes()).decode()
    elif {"target", "model_mean", "target_value"} <= set(df.columns):
        image = _figure(calibration_fit(df))
    else:
        image = None
    inside = df["inside"].cast(pl.Boolean, strict=False).to_list() if "inside" in df.columns else []
    measured = [
        x for x in inside if x is not None
    ]  # a target the model cannot measure is reported, not failed
    return {
        "found": True,
        "path": fit.relative_to(root).as_posix(),  # the same in every clone
        "rows": df.to_dicts(),
        "inside": int(sum(measured)),
        "targets": len(measured),
    }, image


def national_default_check(root: Path, workers: int) -> dict:
    """The acceptance that matters: the national default run (today's regime, as shipped,
    its own window and replications) against every target; misses are explained."""
    from sim.studies.calibrate import check_config

    config = root / "configs" / "denmark" / "current.yaml"
    fit = check_config(
        config, root / "configs" / "denmark" / "targets.yaml", "local", workers, None
    )
    misses = []
    for r in fit.iter_rows(named=True):
        if r["inside"] is None:
            misses.append(f"{r['target']}: not measured by the model. {r['note']}")
        elif not r["inside"]:
            side = "below" if r["model_mean"] < r["target_low"] else "above"
            misses.append(
                f"{r['target']}: {r['model_mean']:,.4g} lies {side} [{r['target_low']:,.4g}, "
                f"{r['target_high']:,.4g}]."
            )
    rows = fit.select(
        "target",
        "measure",
        "group",
        "model_mean",
        "model_low",
        "model_high",
        "target_value",
        "target_low",
        "target_high",
        "inside",
        "confidence",
    ).to_dicts()
    inside = [r["inside"] for r in rows if r["inside"] is not None]
    return {
        "config": str(config.relative_to(root)),
        "rows": rows,
        "misses": misses,
        "inside": sum(inside),
        "measured": len(inside),
    }


# ---------------------------------------------------------------- 4. face validity


def face_validity(root: Path) -> dict:
    """Three traced patients and the pathway counts of one teaching run (seed 7)."""
    from sim.run.runner import load_scenario, simulate
    from sim.run.trace import trace_patients

    spec = load_scenario(root / "configs" / "teaching.yaml")
    who, events = trace_patients(spec, seed=7, replication=0, patients=3)
    eng, inputs = simulate(spec, 0, seed=7)
    reported = [k for k, p in enumerate(inputs.periods) if p.reported]
    totals = eng.counts[reported].sum(axis=(0, 1, 2))
    flow = {name: float(totals[i]) for name, i in C.items()}
    return {
        "patients": {str(k): v for k, v in who.items()},
        "events": [dataclasses.asdict(e) for e in events],
        "flow": flow,
    }


# ---------------------------------------------------------------- HTML


def _figure(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _img(data: str | None) -> str:
    return f'<img alt="figure" src="data:image/png;base64,{data}">' if data else ""


def _fmt(v, column: str = "") -> str:
    if isinstance(v, bool) and column not in ("passed", "inside"):
        return "yes" if v else ""
    if isinstance(v, bool):
        return '<span class="ok">pass</span>' if v else '<span class="bad">FAIL</span>'
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return html.escape(str(v))


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    columns = columns or list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(r.get(c, ''), c)}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


QUICK_NOTE = " — <b>quick mode</b> (shrunken experiments, for testing only)"
CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px;display:block;max-width:100%;
overflow-x:auto}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;overflow-wrap:anywhere}
td:first-child{min-width:10em}
th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
.ok{color:#1a7f37;font-weight:600}
.bad{color:#c00;font-weight:700}
img{max-width:100%}
code{background:#f4f4f4;padding:1px 3px}"""

INTRO = f"""<p>This report collects the evidence for trusting the simulator.
Section 1 verifies the numba
kernel on models reduced to a single unit, where queueing theory gives exact answers: each
check passes when theory lies within {Z_LIMIT:g} standard errors (batch means over reported
periods) of the simulated mean. Section 2 compares the numba kernel with the independent SimPy
reference model on paired replications of the teaching geography: a KPI passes when an
equivalence test (two one-sided t-tests, TOST, alpha {EQUIVALENCE_ALPHA:g}) shows the mean
paired difference per reporting period lies within ±{MARGIN_RELATIVE:.0%} of the SimPy mean (at
least ±{MARGIN_ABSOLUTE:g}): the 90% CI of the difference must lie inside the margin, so too few
or too noisy replications fail rather than pass. Section 3 shows how well the calibrated model
reproduces its empirical targets. Section 4 shows patient pathways for a plausibility check by
eye. Section 5 shows how much the headline reform effect (change in 30-day readmissions) depends
on the parameters that rest on assumptions; it is information, not a pass/fail test.</p>"""


def _summary(data: dict) -> list[dict]:
    q, xv, cal = data["queueing"], data["cross_validation"]["kpis"], data["calibration"]
    rows = [
        {
            "check": "Queueing theory",
            "passed": sum(r["passed"] for r in q),
            "failed": sum(not r["passed"] for r in q),
        },
        {
            "check": "numba vs SimPy",
            "passed": sum(r["passed"] for r in xv),
            "failed": sum(not r["passed"] for r in xv),
        },
    ]
    if cal["found"] and cal.get("rows") and "inside" in cal["rows"][0]:
        rows.append(
            {
                "check": "Calibration fit: measured targets inside interval",
                "passed": cal["inside"],
                "failed": cal["targets"] - cal["inside"],
            }
        )
    national = data.get("national_default")
    if national:
        rows.append(
            {
                "check": "National default run: targets inside interval",
                "passed": national["inside"],
                "failed": national["measured"] - national["inside"],
            }
        )
    return rows


def _html(data: dict, figs: dict[str, str | None], quick: bool) -> str:
    xv, sens, face = data["cross_validation"], data["sensitivity"], data["face_validity"]
    parts = [
        (
            f"<h1>sektorsim validation report</h1><p>Generated {data['generated']}"
            f"{QUICK_NOTE if quick else ''}.</p>"
        ),
        INTRO,
        "<h2>Summary</h2>",
        _table(data["summary"]),
    ]
    parts += [
        f"<h2>{SECTIONS[0]}</h2>",
        (
            "<p>Single-unit models (Poisson arrivals, no deaths or other routes). "
            "z = (simulated − theory) / standard error.</p>"
        ),
        _table(data["queueing"]),
    ]
    parts += [
        f"<h2>{SECTIONS[1]}</h2>",
        (
            f"<p>{xv['replications']} paired replications of the teaching geography (2026-01-01 "
            f"to {xv['end']}, {xv['batches']} quarterly batches each, seed {xv['seed']}); values "
            "are means per quarter. Equivalence (TOST, alpha "
            f"{xv['alpha']:g}): the 90% CI of the mean paired difference (numba − SimPy) lies "
            f"inside ±margin, margin = {xv['margin_relative']:.0%} of the SimPy mean, at least "
            f"{xv['margin_absolute']:g}. Every KPI must pass (an intersection-union test: no "
            "multiplicity correction). SimPy took "
            f"{xv['speed_ratio']:.0f}× the wall "
            f"time of numba for the same runs ({xv['wall_seconds']['simpy']:.1f} s vs "
            f"{xv['wall_seconds']['numba']:.2f} s; information only).</p>"
        ),
        _table(
            xv["kpis"],
            [
                "kpi",
                "numba_mean",
                "simpy_mean",
                "diff_mean",
                "ci90_low",
                "ci90_high",
                "margin",
                "p_value",
                "passed",
            ],
        ),
    ]
    cal = data["calibration"]
    parts.append(f"<h2>{SECTIONS[2]}</h2>")
    if cal["found"]:
        parts += [
            f"<p>From <code>{html.escape(cal['path'])}</code>.</p>",
            _img(figs.get("calibration")),
            _table(cal["rows"]),
        ]
    else:
        parts.append("<p>No calibration result found: run <code>sektorsim calibrate ...</code></p>")
    national = data.get("national_default")
    if national:
        parts += [
            "<h3>The national default run against the "
            f"targets</h3><p><code>{html.escape(national['config'])}"
            "</code> as shipped, over its own reporting window and replications: "
            f"{national['inside']} of "
            f"{national['measured']} measured targets inside their intervals.</p>",
            _table(national["rows"]),
        ]
        if national["misses"]:
            parts += [
                "<p>Misses and targets the model cannot measure:</p><ul>",
                *[f"<li>{html.escape(m)}</li>" for m in national["misses"]],
                "</ul>",
            ]
    else:
        parts.append(
            "<p>The national default run is checked against the targets in the full report "
            "only.</p>"
        )
    parts += [
        f"<h2>{SECTIONS[3]}</h2>",
        "<h3>Patient traces</h3>",
        "<p>Three sampled patients who were in hospital at least once (teaching geography, seed "
        "7).</p>",
    ]
    for pid, info in face["patients"].items():
        rows = [e for e in face["events"] if str(e["patient"]) == pid]
        desc = ", ".join(f"{k} {v}" for k, v in info.items())
        parts += [
            f"<h4>Patient {pid}: {html.escape(desc)}</h4>",
            _table(rows, ["date", "period", "place", "unit", "event", "readmission"]),
        ]
    parts += ["<h3>Pathways</h3>", _img(figs["flow"])]
    parts += [
        f"<h2>{SECTIONS[4]}</h2>",
        (
            "<p>Effect = reform minus current, the national 30-day readmission rate over the "
            "reporting window in percentage points, "
            f"mean of {sens['replications']} paired replication(s) with common random numbers "
            f"(seed {sens['seed']}), on a reduced national configuration with the shipped "
            f"decision rule ({html.escape(', '.join(sens['overrides']))}; the reform with "
            f"{html.escape(', '.join(sens['reform_overrides']))}): whole health councils at "
            "full density, so every queue keeps its real size. "
            f"Base effect: {sens['base_effect']:+.2f} points. Parameters varied: every "
            "assumed scalar parameter with a range, costs included (the organisations weigh "
            "them), except those of a decision rule not in use. "
            f"Simulation noise: the standard error of an effect from {sens['replications']} "
            f"replication(s) is {sens['noise_se']:.2f} points (from "
            f"{sens['noise_replications']} replications of the base point); swings within "
            "about ±2 SE (grey band) are indistinguishable from noise.</p>"
        ),
        _ranking_html(sens),
        "<h3>One at a time</h3>",
        _img(figs["tornado"]),
        _table(sens["oat"]),
        f"<h3>Morris screening ({sens['trajectories']} trajectories)</h3>",
        _img(figs["morris"]),
        _table(sens["morris"]),
    ]
    parts += _robustness_html(data["robustness"])
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>sektorsim "
        f"validation</title><style>{CSS}</style>"
        f"</head><body>{''.join(parts)}</body></html>\n"
    )


def _ranking_html(sens: dict) -> str:
    """Whether the Morris ranking is more than noise, measured by splitting the trajectories."""
    r = sens["ranking"]
    if r["rho"] is None:
        return "<p>Too few trajectories to check the ranking against noise (quick mode).</p>"
    half = sens["trajectories"] // 2
    return (
        f"<p>Is the ranking noise? The Morris screening run on trajectories 1–{half} and on "
        f"the other {sens['trajectories'] - half} separately ranks the parameters with "
        f"Spearman's rho = {r['rho']:.2f} between the two halves (noise alone gives about 0) "
        f"and {r['top5_shared']} of the top five in common.</p>"
    )


def _robustness_html(rob: dict) -> list[str]:
    """Section 6: settled baseline, no knife-edge, prices that matter."""
    w = rob["warmup"]
    settled = ", ".join(f"{k.replace('_', ' ')} from {v}" for k, v in w["settled"].items())
    return [
        f"<h2>{SECTIONS[5]}</h2>",
        (
            f"<p>National configuration ({html.escape(', '.join(rob['overrides']))}), the "
            "shipped decision rule, paired replications with common random numbers.</p>"
        ),
        "<h3>A settled baseline</h3>",
        (
            "<p>Today's regime, quarter by quarter from the start of the warm-up: MSER (the "
            "truncation point that minimises the standard error of the remaining mean) finds "
            f"the series settled — {html.escape(settled)}; reporting starts "
            f"{html.escape(w['first_reported'])}"
            f" ({'in time' if w['in_time'] else 'TOO EARLY: lengthen the warm-up'}).</p>"
        ),
        _table(
            [
                {"period": p, **{k: w["means"][k][i] for k in w["means"]}}
                for i, p in enumerate(w["labels"])
            ]
        ),
        "<h3>No knife-edge: the bed-pressure curve</h3>",
        (
            "<p>Stays are cut short with a chance that rises smoothly with occupancy "
            "(settings.hospital.pressure). The reform's effect on 30-day readmissions "
            "(reform − today) at the default curve and at each end of the range of each of "
            "its three parameters; premature_share_today is the share of today's discharges "
            "that were cut short.</p>"
        ),
        _table(rob["pressure"]),
        "<h3>Where the reform's change in deaths comes from</h3>",
        (
            "<p>Every death has one cause in the model: the fatal course of an acute episode "
            "(by its severity and the patient's group, wherever it is treated), the decaying "
            "excess hazard of the weeks after a survived episode, or background mortality "
            "(age, frailty). Where an episode is treated changes its chance of death only "
            "through a sourced relative risk (mortality.setting_rr: "
            + html.escape(", ".join(f"{k} {v:g}" for k, v in rob["setting_rr"].items()))
            + "). With every relative risk 1, none of the change comes from the building: "
            "fewer deaths follow from fewer acute episodes (chronic-care packages, fewer "
            "episodes after discharges and stays cut short), each carrying its risk. Reform − "
            "today over the reporting window, paired, 95 % t intervals.</p>"
        ),
        _table(rob["deaths"]),
        "<h3>Prices that matter: natural experiments</h3>",
        (
            "<p>From a settled state at the 'before' prices, the paired relative change of "
            "delayed-discharge days at the 'after' prices (configs/denmark/targets.yaml, "
            "responses), next to what Denmark saw when the payment rose on 1 January 2017. "
            "The model compares settled states; the observed fall came within three "
            "quarters.</p>"
        ),
        _table(
            [
                {k: v for k, v in r.items() if k not in ("source", "measure")}
                for r in rob["responses"]
            ]
        ),
    ]


def write_validation_report(
    out_dir: Path,
    quick: bool = False,
    workers: int = 2,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Run every validation experiment; write report.html and validation.json; return the
    report path."""
    tell = progress or (lambda _msg: None)
    steps = itertools.count(1)
    n_steps = 6 if quick else 7

    def step(what: str) -> Callable[[str], None]:
        """Announce the next step; returns how that step reports its own progress."""
        k = next(steps)
        tell(f"step {k} of {n_steps}, {what}")
        return lambda msg: tell(f"step {k} of {n_steps}, {msg}")

    root = shipped_root()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sns.set_theme(style="whitegrid", palette="colorblind")
    data: dict = {"generated": dt.datetime.now().isoformat(timespec="seconds"), "quick": quick}
    step("queueing theory checks")
    data["queueing"] = queueing_checks(quick)
    step("cross-validation numba vs SimPy")
    data["cross_validation"] = cross_validation(root, quick)
    step("calibration fit")
    data["calibration"], cal_fig = calibration(root)
    if not quick:
        step("national default run against the targets")
        data["national_default"] = national_default_check(root, workers)
    step("face validity")
    data["face_validity"] = face_validity(root)
    data["sensitivity"] = run_sensitivity(root, quick, workers, step("sensitivity"))
    step("robustness: warm-up, bed-pressure curve, natural experiments")
    data["robustness"] = {
        "warmup": robustness.warmup(root, quick),
        **robustness.pressure_sweep(root, quick, workers),
        "responses": robustness.responses(root, quick, workers),
        "overrides": list(robustness.size(quick).overrides),
    }
    data["summary"] = _summary(data)
    figs = {
        "calibration": cal_fig,
        "flow": _figure(
            pathway_figure(
                plt,
                data["face_validity"]["flow"],
                "Pathways in one teaching run (seed 7, reporting window, counts)",
            )
        ),
        "tornado": _figure(tornado(plt, data["sensitivity"])),
        "morris": _figure(morris_chart(plt, data["sensitivity"])),
    }
    write_json(data, out_dir / "validation.json")
    report = out_dir / "report.html"
    write_text(_html(data, figs, quick), report)
    return report
