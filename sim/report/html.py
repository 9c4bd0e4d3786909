"""`sektorsim report RUN_DIR`: report.html (self-contained, figures embedded) and report.md."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import polars as pl

from sim.config.evidence import rows as parameter_rows
from sim.config.schema import Scenario
from sim.files import read_parquet, write_text
from sim.outputs.manifest import read_manifest
from sim.outputs.summary import (
    HEADLINE,
    MILLIONS,
    comparison,
    format_estimate,
    whole_window,
)
from sim.report.figures import make_figures

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
figure{margin:0}
figcaption{color:#555;font-size:.85em}
details pre{background:#f8f8f8;padding:1em;overflow:auto;font-size:.8em}
.muted{color:#666;font-size:.9em}
"""


def comparison_rows(kpis: pl.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the KPI comparison (whole window, national, draw 0)."""
    kpis = kpis.filter(pl.col("draw") == 0)
    scenarios = list(dict.fromkeys(kpis["scenario"].to_list()))
    comp = comparison(whole_window(kpis), scenarios, [k for k, _, _ in HEADLINE])
    header = ["KPI (national, reporting window)"]
    for i, s in enumerate(scenarios):
        header.append(f"{s}: mean [95% CI]")
        if i:
            header.append(f"{s} − {scenarios[0]}: paired [95% CI]")
    rows = []
    for kpi, label, fmt in HEADLINE:
        scale = 1e-6 if kpi in MILLIONS else 1.0
        cells = [label]
        for row in comp.filter(pl.col("kpi") == kpi).iter_rows(named=True):
            cells.append(format_estimate(fmt, row["mean"], row["ci_low"], row["ci_high"], scale))
            if row["scenario"] != scenarios[0]:
                cells.append(
                    format_estimate(
                        fmt, row["diff"], row["diff_low"], row["diff_high"], scale, signed=True
                    )
                )
        rows.append(cells)
    return header, rows


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


def write_report(run_dir: Path, formats: tuple[str, ...] = ("png",)) -> Path:
    """Draw the figures and write report.html and report.md into the run directory."""
    manifest = read_manifest(run_dir)
    source = (
        f"Source: sektorsim {manifest['versions']['sektorsim']}, {manifest['kind']} of "
        f"{manifest['created']}, "
        f"seed {manifest['seed']}, {manifest['replications']} replications; 95% CIs over "
        "replications."
    )
    figures = make_figures(run_dir, source, manifest.get("draws") or [{}], formats)
    kpis = read_parquet(run_dir / "kpis.parquet")
    header, rows = comparison_rows(kpis)
    scenarios = manifest["scenarios"]
    first = Scenario.model_validate(scenarios[0]["config"])
    params = parameter_rows(first)
    p_header = ["parameter", "value", "range", "evidence"]
    p_rows = [
        [p["parameter"], p["value"], p["range"], f"{p['evidence']}: {p['text']}"] for p in params
    ]
    title = f"sektorsim — {' vs '.join(dict.fromkeys(s['name'] for s in scenarios))}"
    descriptions = "".join(
        f"<li><b>{html.escape(s['name'])}</b>: "
        f"{html.escape(s['config'].get('description', ''))}</li>"
        for s in {s["name"]: s for s in scenarios}.values()
    )
    sim = first.simulation
    intro = (
        f"Reporting window {sim.start} to {sim.end} (after a {sim.warmup_days}-day warm-up), "
        f"{manifest['replications']} replications, master seed {manifest['seed']}, common "
        "random numbers."
    )
    imgs = "".join(
        f'<figure><img alt="{p.stem}" '
        f'src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        f"<figcaption>{p.stem.replace('_', ' ')}</figcaption></figure>"
        for p in figures
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p><ul>{descriptions}</ul>
<h2>Comparison</h2>{_html_table(header, rows)}<p class="muted">{html.escape(source)}</p>
<h2>Figures</h2>{imgs}
<h2>Parameters and their sources ({html.escape(first.name)})</h2>{_html_table(p_header, p_rows)}
<h2>Manifest</h2><details>
<summary>manifest.json (configs, versions, code revision, output hashes)</summary>
<pre>{html.escape(json.dumps(manifest, indent=2))}</pre></details></body></html>
"""
    write_text(page, run_dir / "report.html")
    md = [
        f"# {title}",
        "",
        intro,
        "",
        *[
            f"- **{s['name']}**: {s['config'].get('description', '')}"
            for s in {s["name"]: s for s in scenarios}.values()
        ],
        "",
        "## Comparison",
        "",
        _md_table(header, rows),
        "",
        source,
        "",
        "## Figures",
        "",
        *[f"![{p.stem}](figures/{p.name})" for p in figures],
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
