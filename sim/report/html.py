"""`sektorsim report RUN_DIR`: report.html (self-contained, figures embedded) and report.md.

The report opens with the answer: a few sentences generated from the paired differences
(units right: percentage points for rates, DKK million for money), the levers in force and
from when, then the table, the figures with captions and alt text, the parameters and the
manifest. Rebuilding it from the same run directory gives the same bytes.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from sim.config.evidence import walk
from sim.config.schema import Levers, Scenario
from sim.files import read_parquet, write_text
from sim.measures import MEASURES, label
from sim.outputs.manifest import read_manifest
from sim.outputs.summary import (
    CLIPPED_NOTE,
    HEADLINE,
    MILLIONS,
    POINTS,
    comparison,
    comparison_cells,
    whole_window,
)
from sim.report.figures import FORMATS, Drawn, context, make_figures

if TYPE_CHECKING:
    from sim.report.drawer import Drawer

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}
h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}
td,th{border:1px solid #ddd;padding:.3em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}
th{background:#f4f4f4}
img{max-width:100%;margin:1em 0}
figure{margin:0 0 2em 0}
figcaption{color:#444;font-size:.9em}
details pre{background:#f8f8f8;padding:1em;overflow:auto;font-size:.8em}
.muted{color:#666;font-size:.9em}
.answer{background:#f6f8fa;border-left:4px solid #0072b2;padding:.5em 1em}
"""

#: The KPIs the opening sentences speak about, in this order.
ANSWER_KPIS: tuple[str, ...] = (
    "readmission_rate_30d",
    "readmissions_30d",
    "admissions",
    "hospital_bed_days",
    "delayed_discharge_days",
    "cost_region_dkk",
    "cost_municipality_dkk",
    "cost_total_dkk",
)
VALIDATION_REPORT = Path("results/validation/report.html")


#: Names in running text where the label is a table heading ("Cost, regions (DKK m)").
TEXT_NAMES = {
    "cost_region_dkk": "net cost of the regions",
    "cost_municipality_dkk": "net cost of the municipalities",
    "cost_citizen_dkk": "user payments by citizens",
    "cost_state_dkk": "state grants",
    "cost_total_dkk": "total resource cost",
}


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _name(kpi: str) -> str:
    """A KPI's label for running text: no unit suffix, lower case unless an acronym."""
    if kpi in TEXT_NAMES:
        return TEXT_NAMES[kpi]
    text = label(kpi).replace(" (DKK m)", "").replace(" (days)", "")
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _value(kpi: str, v: float) -> str:
    if kpi in POINTS:
        return f"{v:.2%}"
    if kpi in MILLIONS:
        return f"DKK {v / 1e6:,.1f} m"
    unit = MEASURES[kpi].unit if kpi in MEASURES else ""
    return f"{v:,.0f}" + (f" {unit}" if unit not in ("count", "") else "")


def _signed(kpi: str, v: float) -> str:
    sign = "−" if v < 0 else "+"
    if kpi in POINTS:
        return f"{sign}{abs(v) * 100:.2f} percentage points"
    if kpi in MILLIONS:
        return f"{sign}DKK {abs(v) / 1e6:,.1f} m"
    return f"{sign}{abs(v):,.0f}"


def _bound(kpi: str, v: float) -> str:
    if kpi in POINTS:
        text = f"{v * 100:.2f}"
    elif kpi in MILLIONS:
        text = f"{v / 1e6:,.1f}"
    else:
        text = f"{v:,.0f}"
    return text.replace("-", "−") if any(c in "123456789" for c in text) else text.lstrip("-")


def answer_sentences(comp: pl.DataFrame, scenarios: list[str]) -> list[str]:
    """Plain sentences from the comparison: what changes, by how much, with its CI."""
    base = scenarios[0]
    out = []
    for other in scenarios[1:]:
        rows = {r["kpi"]: r for r in comp.filter(pl.col("scenario") == other).iter_rows(named=True)}
        bases = {r["kpi"]: r for r in comp.filter(pl.col("scenario") == base).iter_rows(named=True)}
        resolved, sentences = [], []
        for kpi in ANSWER_KPIS:
            if kpi not in rows or rows[kpi]["diff"] is None:
                continue
            r, b = rows[kpi], bases[kpi]
            d, lo, hi = r["diff"], r["diff_low"], r["diff_high"]
            text = (
                f"{_name(kpi)[:1].upper()}{_name(kpi)[1:]}: "
                f"{_value(kpi, b['mean'])} under {base}, "
                f"{_value(kpi, r['mean'])} under {other}, a paired difference of "
                f"{_signed(kpi, d)}"
            )
            if lo is None or lo != lo:
                text += " (one replication: no confidence interval)."
            else:
                text += f" (95% CI {_bound(kpi, lo)} to {_bound(kpi, hi)})"
                if lo > 0 or hi < 0:
                    resolved.append(_name(kpi))
                    text += "."
                else:
                    text += "; the interval includes zero: no change the replications resolve."
            sentences.append(text)
        if resolved:
            lead = (
                f"Compared with {base}, {other} changes {_and(resolved)} by more than the "
                "replications' noise (the 95% CI of the paired difference excludes zero)."
            )
        else:
            lead = (
                f"Compared with {base}, no headline measure of {other} differs by more than "
                "the replications' noise."
            )
        out += [lead, *sentences]
    return out


def lever_rows(manifest: dict) -> tuple[list[str], list[list[str]]]:
    """Which levers are on in which scenario, and from when (from the manifest's configs)."""
    scenarios = list({s["name"]: s for s in manifest["scenarios"]}.values())
    header = ["lever", *[s["name"] for s in scenarios]]
    rows = []
    for lever, info in Levers.model_fields.items():
        cells = [f"{lever}: {info.description}"]
        for s in scenarios:
            regime = s["config"].get("regime", {})
            end = str(s["config"].get("simulation", {}).get("end", ""))
            if not regime.get("levers", {}).get(lever):
                cells.append("off")
                continue
            start = str(regime["reform_date"])
            text = f"from {start}"
            if lever == "chronic_packages":
                starts = regime.get("reform", {}).get("packages", {}).get("start", {})
                text += (
                    " ("
                    + ", ".join(
                        f"{g} from {d}" + (" — after the window" if end and str(d) >= end else "")
                        for g, d in starts.items()
                    )
                    + ")"
                )
            if end and start >= end:
                text += " — after the reporting window"
            cells.append(text)
        rows.append(cells)
    return header, rows


def _number(path: str, v) -> str:
    if not isinstance(v, int | float) or isinstance(v, bool):
        return str(v)
    if "dkk" in path.lower() and abs(v) >= 100_000:
        return f"DKK {v / 1e6:,.2f} m"
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.4g}"


def parameter_table(scenario: Scenario) -> tuple[list[str], list[list[str]]]:
    """Every parameter with its value, range and evidence; money in DKK m, no 1.6e+06."""
    rows = []
    for path, p in walk(scenario):
        value = getattr(p, "value", None)
        shown = (
            ", ".join(f"{k}: {_number(path, x)}" for k, x in value.items())
            if isinstance(value, dict)
            else _number(path, value)
        )
        rng = f"{_number(path, p.range[0])} – {_number(path, p.range[1])}" if p.range else ""
        evidence = "source" if p.source else ("assumption" if p.assumption else "MISSING")
        rows.append([path, shown, rng, f"{evidence}: {p.source or p.assumption or ''}"])
    return ["parameter", "value", "range", "evidence"], rows


def comparison_rows(kpis: pl.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the KPI comparison (whole window, national, draw 0)."""
    kpis = kpis.filter(pl.col("draw") == 0)
    scenarios = list(dict.fromkeys(kpis["scenario"].to_list()))
    return comparison_cells(comparison(whole_window(kpis), scenarios, [k for k, _, _ in HEADLINE]))


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _validation_link(run_dir: Path) -> str | None:
    """The committed validation report, relative to the run directory when both are in the
    repository (no absolute paths in a report)."""
    root = Path(__file__).resolve().parent.parent.parent
    target = root / VALIDATION_REPORT
    try:
        run_dir.resolve().relative_to(root)
    except ValueError:
        return None
    if not target.is_file():
        return None
    return Path(os.path.relpath(target, run_dir.resolve())).as_posix()


def _figure_html(d: Drawn, n: int) -> str:
    data = base64.b64encode(d.path.read_bytes()).decode()
    others = " · ".join(
        f'<a href="figures/{d.path.stem}.{ext}">{ext.upper()}</a>'
        for ext in ("svg", "pdf", "csv")
        if d.path.with_suffix(f".{ext}").is_file()
    )
    return (
        f'<figure id="{d.path.stem}"><img alt="{html.escape(d.alt)}" '
        f'src="data:image/png;base64,{data}">'
        f"<figcaption><b>Figure {n}. {html.escape(d.title)}.</b> {html.escape(d.caption)} "
        f'<span class="muted">({others})</span></figcaption></figure>'
    )


def write_report(
    run_dir: Path,
    formats: tuple[str, ...] = FORMATS,
    quiet: bool = False,
    drawer: Drawer | None = None,
) -> Path:
    """Draw the figures (with DRAWER's process if given) and write report.html and
    report.md into the run directory."""
    manifest = read_manifest(run_dir)
    source = (
        f"Source: sektorsim {manifest['versions']['sektorsim']}, {manifest['kind']} of "
        f"{manifest['created']}, seed {manifest['seed']}, {manifest['replications']} "
        "replications; 95% CIs over replications (Student t)."
    )
    ctx = context(manifest, source, formats)
    figures = make_figures(run_dir, ctx, manifest.get("draws") or [{}], quiet, drawer)
    kpis = read_parquet(run_dir / "kpis.parquet").filter(pl.col("draw") == 0)
    scenarios = list(dict.fromkeys(kpis["scenario"].to_list()))
    comp = comparison(whole_window(kpis), scenarios, [k for k, _, _ in HEADLINE])
    header, rows = comparison_cells(comp)
    answer = answer_sentences(comp, scenarios)
    l_header, l_rows = lever_rows(manifest)
    first = Scenario.model_validate(manifest["scenarios"][0]["config"])
    p_header, p_rows = parameter_table(first)
    title = f"sektorsim — {' vs '.join(dict.fromkeys(s['name'] for s in manifest['scenarios']))}"
    described = {s["name"]: s for s in manifest["scenarios"]}.values()
    sim = first.simulation
    intro = (
        f"Reporting window {sim.start} to {sim.end} (after a {sim.warmup_days}-day warm-up), "
        f"{manifest['replications']} replications, master seed {manifest['seed']}, common "
        "random numbers: differences are paired replication by replication."
    )
    validation = _validation_link(run_dir)
    links_md = [
        "- [STRESS-DES appendix](stress-des.md): how the model was built and run.",
        (
            f"- [Validation report]({validation}): queueing theory, numba vs SimPy, targets."
            if validation
            else "- Validation report: `results/validation/report.html` in the sektorsim "
            f"repository (code {(manifest.get('code') or {}).get('commit') or 'unknown'})."
        ),
        "- Data: `kpis.parquet` (see docs/outputs.md), `agents.parquet`, `practices.parquet`,"
        " `equity.parquet`, `manifest.json`;"
        " each figure's numbers in a CSV file beside it in the figures folder.",
    ]
    links_html = "".join(
        f"<li>{item}</li>"
        for item in (
            '<a href="stress-des.md">STRESS-DES appendix</a>: how the model was built and run.',
            (
                f'<a href="{html.escape(validation)}">Validation report</a>: queueing theory, '
                "numba vs SimPy, targets."
                if validation
                else html.escape(links_md[1][2:].replace("`", ""))
            ),
            html.escape(links_md[2][2:].replace("`", "")),
        )
    )
    # the tables' hashes only: the report cannot hold its own hash (manifest.json has all)
    shown = {
        **manifest,
        "outputs": {
            k: v
            for k, v in sorted(manifest.get("outputs", {}).items())
            if v["file"].endswith(".parquet")
        },
    }
    descriptions = "".join(
        f"<li><b>{html.escape(s['name'])}</b>: "
        f"{html.escape(s['config'].get('description', ''))}</li>"
        for s in described
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>
<h2>The answer</h2><div class="answer"><p>{html.escape(answer[0]) if answer else ""}</p>
<ul>{"".join(f"<li>{html.escape(a)}</li>" for a in answer[1:])}</ul></div>
<p>{html.escape(intro)}</p>
<ul>{descriptions}</ul>
<h2>Levers in force</h2>{_html_table(l_header, l_rows)}
<h2>Comparison</h2>{_html_table(header, rows)}
<p class="muted">{html.escape(CLIPPED_NOTE)} Rate differences are in percentage points.
{html.escape(source)}</p>
<h2>Figures</h2>{"".join(_figure_html(d, i + 1) for i, d in enumerate(figures))}
<h2>See also</h2><ul>{links_html}</ul>
<h2>Parameters and their sources ({html.escape(first.name)})</h2>{_html_table(p_header, p_rows)}
<h2>Manifest</h2><details>
<summary>manifest.json (configs, versions, code revision, output hashes)</summary>
<pre>{html.escape(json.dumps(shown, indent=2))}</pre></details></body></html>
"""
    write_text(page, run_dir / "report.html")
    md = [
        f"# {title}",
        "",
        "## The answer",
        "",
        *(answer[:1] + [""] + [f"- {a}" for a in answer[1:]] if answer else []),
        "",
        intro,
        "",
        *[f"- **{s['name']}**: {s['config'].get('description', '')}" for s in described],
        "",
        "## Levers in force",
        "",
        _md_table(l_header, l_rows),
        "",
        "## Comparison",
        "",
        _md_table(header, rows),
        "",
        f"{CLIPPED_NOTE} Rate differences are in percentage points.",
        "",
        source,
        "",
        "## Figures",
        "",
    ]
    for i, d in enumerate(figures):
        md += [
            f"![{d.alt}](figures/{d.path.name})",
            "",
            f"**Figure {i + 1}. {d.title}.** {d.caption}",
            "",
        ]
    md += [
        "## See also",
        "",
        *links_md,
        "",
        f"## Parameters and their sources ({first.name})",
        "",
        _md_table(p_header, p_rows),
        "",
        "The manifest is in `manifest.json`.",
        "",
    ]
    write_text("\n".join(md), run_dir / "report.md")
    return run_dir / "report.html"
