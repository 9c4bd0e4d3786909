"""The pathway diagram: where acute episodes go, and where hospital patients go next.

The flows are built so that every box balances by construction: what the counters do not
say directly (episodes admitted straight to hospital, discharges home without follow-up,
patients in hospital across the window's edges) is the named remainder, never a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Box: (x, y, title, colour). Sources and sinks need not balance; the rest must.
NODES: dict[str, tuple[float, float, str, str]] = {
    "episodes": (0.08, 0.55, "Acute episodes", "#f6e3c5"),
    "window": (0.38, 0.93, "Resolved in the\nresponsibility window", "#dbe9f6"),
    "gp": (0.38, 0.79, "Resolved by the GP", "#dbe9f6"),
    "home_treatment": (0.28, 0.66, "Home treatment", "#dbe9f6"),
    "stepup": (0.48, 0.50, "Step-up\nintermediate care", "#dbe9f6"),
    "hospital": (0.38, 0.22, "Hospital", "#f4cccc"),
    "carried_in": (0.12, 0.06, "In hospital at the\nwindow's start", "#eeeeee"),
    "discharges": (0.64, 0.22, "Discharges", "#dbe9f6"),
    "died": (0.64, 0.04, "Died in hospital", "#eeeeee"),
    "carried_out": (0.38, 0.04, "Still in hospital\nat the window's end", "#eeeeee"),
    "stepdown": (0.92, 0.42, "Step-down\nintermediate care", "#dbe9f6"),
    "followup": (0.92, 0.24, "Home with home-\ntreatment follow-up", "#dbe9f6"),
    "home": (0.92, 0.06, "Home", "#dbe9f6"),
    "readmissions": (0.64, 0.58, "30-day readmissions", "#fce5cd"),
    "resolved_ht": (0.64, 0.80, "Resolved at home or\nin intermediate care", "#dbe9f6"),
}
SOURCES = frozenset({"episodes", "carried_in"})
SINKS = frozenset(
    {"window", "gp", "carried_out", "died", "stepdown", "followup", "home", "resolved_ht"}
)


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    count: float
    label: str = ""


def _split(total: float, parts: list[tuple[str, float]], rest: str) -> list[tuple[str, float]]:
    """PARTS of TOTAL and the remainder under REST (never negative: parts are capped)."""
    out, left = [], total
    for name, value in parts:
        value = max(0.0, min(value, left))
        out.append((name, value))
        left -= value
    return [*out, (rest, left)]


def pathway_flows(f: dict[str, float]) -> list[Flow]:
    """The diagram's flows from a run's counters (reporting window, summed)."""
    stepup = max(f["sop_admissions"] - f["sop_stepdowns"], 0.0)
    flows = [
        Flow("episodes", target, count)
        for target, count in _split(
            f["episodes"],
            [
                ("window", f["window_resolved"]),
                ("gp", f["gp_resolved"]),
                ("home_treatment", f["home_treatment_episodes"]),
                ("stepup", stepup),
            ],
            "hospital",
        )
    ]
    direct = flows[-1].count
    ht_esc = min(f["ht_escalations"], f["home_treatment_episodes"])
    sop_esc = min(f["sop_escalations"], stepup)
    flows += [
        Flow("home_treatment", "hospital", ht_esc, "escalated"),
        Flow("home_treatment", "resolved_ht", f["home_treatment_episodes"] - ht_esc),
        Flow("stepup", "hospital", sop_esc, "escalated"),
        Flow("stepup", "resolved_ht", stepup - sop_esc),
    ]
    into_hospital = direct + ht_esc + sop_esc
    leaving = f["discharges"] + f["deaths_in_hospital"]
    # the window's edges: admitted before it and discharged in it, or the other way round
    carried = leaving - into_hospital
    if carried > 0:
        flows.append(Flow("carried_in", "hospital", carried))
    flows += [
        Flow("hospital", "discharges", f["discharges"]),
        Flow("hospital", "died", f["deaths_in_hospital"]),
    ]
    if carried < 0:
        flows.append(Flow("hospital", "carried_out", -carried))
    flows += [
        Flow("discharges", target, count)
        for target, count in _split(
            f["discharges"],
            [("stepdown", f["sop_stepdowns"]), ("followup", f["home_followups"])],
            "home",
        )
    ]
    return [fl for fl in flows if fl.count > 0 or fl.source == "episodes"]


def balance(flows: list[Flow]) -> dict[str, tuple[float, float]]:
    """(in, out) of every box that is neither a source nor a sink."""
    out: dict[str, tuple[float, float]] = {}
    for node in NODES:
        if node in SOURCES or node in SINKS or node == "readmissions":
            continue
        inflow = sum(fl.count for fl in flows if fl.target == node)
        outflow = sum(fl.count for fl in flows if fl.source == node)
        out[node] = (inflow, outflow)
    return out


def node_totals(flows: list[Flow]) -> dict[str, float]:
    totals = {}
    for node in NODES:
        inflow = sum(fl.count for fl in flows if fl.target == node)
        outflow = sum(fl.count for fl in flows if fl.source == node)
        totals[node] = max(inflow, outflow)
    return totals


def pathway_figure(plt, f: dict[str, float], title: str):
    """Boxes and arrows whose heads touch the boxes; readmissions drawn as the loop from
    discharges back to hospital (they are part of the hospital's inflow, not extra)."""
    flows = pathway_flows(f)
    totals = node_totals(flows)
    totals["readmissions"] = f["readmissions_30d"]
    used = {fl.source for fl in flows} | {fl.target for fl in flows} | {"readmissions"}
    fig, ax = plt.subplots(figsize=(12, 7))
    ax.set_axis_off()
    ax.set(xlim=(-0.02, 1.04), ylim=(-0.04, 1.0))
    ax.set_title(title, fontweight="bold")
    boxes = {}
    for node, (x, y, text, colour) in NODES.items():
        if node not in used:
            continue
        boxes[node] = ax.text(
            x,
            y,
            f"{text}\n{totals[node]:,.0f}",
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "fc": colour, "ec": "0.4"},
        )

    def arrow(a: str, b: str, label: str, colour="0.3", style="-", rad=0.0):
        (xa, ya), (xb, yb) = NODES[a][:2], NODES[b][:2]
        ax.annotate(
            "",
            xy=(xb, yb),
            xytext=(xa, ya),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "lw": 1.1,
                "ls": style,
                "shrinkA": 0,
                "shrinkB": 0,
                "patchA": boxes[a].get_bbox_patch(),
                "patchB": boxes[b].get_bbox_patch(),
                "connectionstyle": f"arc3,rad={rad}",
                "mutation_scale": 12,
            },
        )
        ax.text(
            xa + (xb - xa) * 0.55,
            ya + (yb - ya) * 0.55 + 0.012,
            label,
            fontsize=8,
            ha="center",
            color=colour,
            bbox={"fc": "white", "ec": "none", "pad": 0.5, "alpha": 0.8},
        )

    for fl in flows:
        escalation = fl.label == "escalated"
        arrow(
            fl.source,
            fl.target,
            f"{fl.label + ' ' if fl.label else ''}{fl.count:,.0f}",
            colour="C3" if escalation else "0.3",
            style="--" if escalation else "-",
            rad=0.0,
        )
    arrow("discharges", "readmissions", "within 30 days", colour="C1", style=":")
    arrow(
        "readmissions",
        "hospital",
        f"{f['readmissions_30d']:,.0f} (counted in the admissions)",
        colour="C1",
        style=":",
        rad=0.2,
    )
    fig.text(
        0.0,
        0.0,
        "Every box balances: in = out. Hospital inflow = direct admissions + escalations"
        + (" + patients already in hospital at the window's start" if "carried_in" in used else "")
        + ".",
        fontsize=8,
        color="0.35",
    )
    return fig
