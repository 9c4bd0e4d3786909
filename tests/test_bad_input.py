"""Bad input of every kind: exit code 2, a message naming the problem, no traceback, and the
file system outside the intended output byte-for-byte unchanged.

Each case is one row of CASES: the files it writes into a fresh directory, the command
line, and the words its message must (and must not) contain. Commands run in-process, so
the whole table takes seconds; a real process is used only where one matters
(tests/test_orphans.py).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
TARGETS = ROOT / "configs" / "denmark" / "targets.yaml"
HEADER = (
    "municipality,region_current,region_reform,health_council,population,"
    "pop_65_74,pop_75_84,pop_85plus,gp_capacity_per_100k"
)
ROW = "Nordby,Teaching,Teaching,Teaching,24000,2900,1900,600,55"
#: a short run: one replication of one quarter
SHORT = ["--set", "simulation.end=2026-04-01", "--set", "simulation.warmup_days=10"]
QUICK = ["--replications", "1", "--workers", "1", "--quiet", "--no-report"]
CONFIG = "invalid configuration"
OUTPUT = "invalid output directory"
RUN_DIR = "invalid run directory"
RULE = "invalid decision rule"
EXPERIMENT = "invalid experiment"
BATCH_DIR = "invalid batch directory"
TOO_LARGE = "too large for this machine"
OPTION = "invalid option"
USAGE = "usage:"  # typer's own option errors (exit code 2)

runner = CliRunner()
Setup = Callable[[Path, pytest.MonkeyPatch], None]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    expect: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    setup: Setup | None = None


def cfg(body: str, base: Path = TEACHING) -> str:
    """A config extending the teaching one (or `base`), with `body` on top."""
    return f"extends: {base}\n{body}"


def run(config: str = "{tmp}/bad.yaml", *extra: str) -> tuple[str, ...]:
    return ("run", config, "--out", "{tmp}/out", *QUICK, *extra)


def bad(body: str) -> dict[str, str]:
    return {"bad.yaml": cfg(body)}


def geo(*rows: str, header: str = HEADER) -> dict[str, str | bytes]:
    return {
        "geo.csv": "\n".join([header, *rows]) + "\n",
        "bad.yaml": cfg(
            "geography:\n  file: geo.csv\n  coordinates: null\n  municipalities: null\n"
        ),
    }


def rule(name: str, module: str = "", source: str = "") -> dict[str, str]:
    files = bad(f"organisations:\n  decision_rule: '{name}'\n")
    if module:
        files[f"{module}.py"] = "from sim.org.rules import Decision\n\n\n" + source
    return files


def experiment(body: str, scenarios: str = "") -> dict[str, str]:
    scen = scenarios or f"scenarios:\n  - config: {TEACHING}\n"
    return {"exp.yaml": f"name: exp\n{scen}replications: 1\nseed: 1\n{body}"}


def psa(draws: str, field: str, distribution: str, parameters: str) -> dict[str, str]:
    """An experiment with one PSA parameter."""
    return experiment(
        f"psa:\n  draws: {draws}\n  parameters:\n    {field}:\n"
        f"      distribution: {distribution}\n      parameters: {parameters}\n      assumption: x\n"
    )


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


# ------------------------------------------------------------------- setups
def _module(*names: str):
    """The first importable of `names` (modules move in the package restructure)."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(names[0])


def _files():
    """The module that writes and checks output directories."""
    return _module("sim.files", "sim.output")


def copy_run(name: str = "prev", edit: Callable[[Path], None] | None = None) -> Setup:
    """Copy the session's finished run to `name`, then let `edit` damage it."""

    def setup(tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        shutil.copytree(MADE_RUN["dir"], tmp / name)
        if edit:
            edit(tmp / name)

    return setup


def edit_manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(run_dir: Path) -> None:
        data = json.loads((run_dir / "manifest.json").read_text())
        data = change(data) or data
        (run_dir / "manifest.json").write_text(json.dumps(data))

    return edit


def truncate(name: str) -> Callable[[Path], None]:
    def edit(run_dir: Path) -> None:
        path = run_dir / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return edit


def remove(name: str) -> Callable[[Path], None]:
    return lambda run_dir: (run_dir / name).unlink()


def write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda run_dir: (run_dir / name).write_bytes(data)


def kpis_without_columns(run_dir: Path) -> None:
    import polars as pl

    pl.DataFrame({"x": [1]}).write_parquet(run_dir / "kpis.parquet")


def set_key(path: str, value: object) -> Callable[[dict], None]:
    """Set a nested manifest key given as 'a.b.0.c'."""

    def change(data: dict) -> None:
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = data
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return change


def hold_lock(target: str) -> Setup:
    """Another sektorsim holds the lock of `target` (same process, its own descriptor)."""

    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> None:
        lock = _files().output_lock(tmp / target)
        lock.__enter__()
        LOCKS.append(lock)

    return setup


def no_free_disk(tmp: Path, mp: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage
    mp.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=1024))


def batch_dir(part: bytes | None = None, plan: bytes | None = None) -> Setup:
    """A started batch of exp.yaml in {tmp}/b, its plan or its one part file damaged."""

    def setup(tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        exp_mod = _module("sim.run.experiment", "sim.experiment")
        batch = _module("sim.run.batch", "sim.batch")
        plan_obj = exp_mod.load_experiment(tmp / "exp.yaml")
        batch.prepare_directory(tmp / "b", plan_obj, False)
        if plan is not None:
            (tmp / "b" / batch.PLAN_FILE).write_bytes(plan)
        if part is not None:
            (tmp / "b" / "parts" / batch.part_name("kpis", batch.Task(0, 0, 0))).write_bytes(part)

    return setup


def symlink(name: str, to: str) -> Setup:
    return lambda tmp, _mp: (tmp / name).symlink_to(tmp / to)


# --------------------------------------------------------------------- cases
RULE_OK = "def decide(agent, obs, scenario):\n    return Decision()\n"
THESIS = {"thesis/chapter1.tex": "\\chapter{One}\n", "thesis/refs.bib": "@book{x}\n"}
TEACH = ("run", str(TEACHING), "--out", "{tmp}/out", *QUICK)

CASES: list[Case] = [
    # --- YAML syntax and structure
    Case(
        "yaml-malformed",
        run(),
        (CONFIG, "bad.yaml:", "malformed yaml"),
        bad("settings: [unclosed\n"),
    ),
    Case("yaml-duplicate-key", run(), (CONFIG, "duplicate key", "name"), bad("name: a\nname: b\n")),
    Case(
        "yaml-top-level-list", run(), (CONFIG, "top level must be a mapping"), {"bad.yaml": "- a\n"}
    ),
    Case("yaml-not-utf8", run(), (CONFIG, "not utf-8"), {"bad.yaml": b"name: caf\xe9\n"}),
    Case("yaml-nul-bytes", run(), (CONFIG, "bad.yaml"), {"bad.yaml": b"\x00\x01\x02binary\xff"}),
    Case("yaml-tab-indent", run(), (CONFIG, "malformed yaml"), bad("settings:\n\tsop: 1\n")),
    Case("yaml-alias-bomb", run(), (CONFIG, "bad.yaml", "alias"), {"bad.yaml": BILLION_LAUGHS}),
    Case(
        "yaml-deep-nesting",
        run(),
        (CONFIG, "bad.yaml", "nest"),
        bad("a: " + "[" * 5000 + "]" * 5000),
    ),
    Case(
        "yaml-python-tag",
        run(),
        (CONFIG, "bad.yaml:2", "tag"),
        bad("name: !!python/object:os.system x\n"),
    ),
    Case("yaml-empty-file", run(), (CONFIG, "required field is missing"), {"bad.yaml": ""}),
    Case("yaml-null-section", run(), (CONFIG, "settings"), bad("settings: null\n")),
    Case("yaml-non-string-key", run(), (CONFIG, "unknown field"), bad("1: x\n")),
    Case("config-missing", run("{tmp}/nowhere.yaml"), (CONFIG, "nowhere.yaml", "not found")),
    Case("config-is-directory", run("{tmp}"), (CONFIG, "is a directory")),
    Case(
        "extends-cycle",
        run("{tmp}/a.yaml"),
        (CONFIG, "extends cycle"),
        {"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"},
    ),
    Case(
        "extends-missing",
        run(),
        (CONFIG, "nowhere.yaml", "not found"),
        {"bad.yaml": "extends: nowhere.yaml\n"},
    ),
    Case(
        "extends-not-a-name", run(), (CONFIG, "extends", "file name"), {"bad.yaml": "extends: 3\n"}
    ),
    # --- dates
    Case(
        "date-impossible",
        run(),
        (CONFIG, "bad.yaml:3", "2026-02-30", "date"),
        bad("simulation:\n  end: 2026-02-30\n"),
    ),
    Case(
        "date-garbage",
        run(),
        (CONFIG, "simulation.start", "date"),
        bad("simulation:\n  start: tomorrow\n"),
    ),
    Case(
        "date-month-13",
        run(),
        (CONFIG, "2027-13-01"),
        bad("settings:\n  gp:\n    packages:\n      start: {copd: 2027-13-01}\n"),
    ),
    Case(
        "date-not-first-of-month",
        run(),
        (CONFIG, "first day of a month"),
        bad("simulation:\n  start: 2026-01-15\n"),
    ),
    Case(
        "date-end-before-start",
        run(),
        (CONFIG, "must be after start"),
        bad("simulation:\n  end: 2025-01-01\n"),
    ),
    Case("horizon-absurd", run(), (TOO_LARGE, "days"), bad("simulation:\n  end: 9999-01-01\n")),
    # --- integers
    Case(
        "warmup-1e9",
        run(),
        (CONFIG, "warmup_days", "less than or equal"),
        bad("simulation:\n  warmup_days: 1e9\n"),
    ),
    Case(
        "warmup-fraction", run(), (CONFIG, "warmup_days"), bad("simulation:\n  warmup_days: 10.5\n")
    ),
    Case(
        "followup-huge",
        run(),
        (CONFIG, "readmission_followup_days"),
        bad("simulation:\n  readmission_followup_days: 100000000\n"),
    ),
    Case("seed-negative", run(), (CONFIG, "seed"), bad("simulation:\n  seed: -1\n")),
    Case(
        "seed-overflow",
        run(),
        (CONFIG, "seed", "less than or equal"),
        bad("simulation:\n  seed: 100000000000000000000000\n"),
    ),
    Case(
        "replications-zero",
        run(),
        (CONFIG, "replications"),
        bad("simulation:\n  replications: 0\n"),
    ),
    Case(
        "replications-1e12-yaml",
        ("run", "{tmp}/bad.yaml", "--out", "{tmp}/out", "--quiet"),
        (TOO_LARGE, "1,000,000,000,000"),
        bad("simulation:\n  replications: 1e12\n"),
    ),
    # --- non-finite and absurd numbers
    Case(
        "nan-probability",
        run(),
        (CONFIG, "escalation", "finite"),
        bad("settings:\n  sop:\n    escalation:\n      value: .nan\n"),
    ),
    Case(
        "nan-in-group",
        run(),
        (CONFIG, "bad.yaml:4", "gp_resolve", "finite"),
        bad("triage:\n  gp_resolve:\n    value: {copd: .nan}\n"),
    ),
    Case(
        "inf-beds",
        run(),
        (CONFIG, "beds_per_1000", "finite"),
        bad("settings:\n  sop:\n    beds_per_1000:\n      value: .inf\n"),
    ),
    Case(
        "overflow-1e400",
        run(),
        (CONFIG, "settings.hospital.beds_per_1000", "finite"),
        bad("settings:\n  hospital:\n    beds_per_1000:\n      value: 1e400\n"),
    ),
    Case(
        "minus-inf-cost",
        run(),
        (CONFIG, "hospital_bed_day_dkk", "finite"),
        bad("costs:\n  hospital_bed_day_dkk:\n    value: -.inf\n"),
    ),
    Case(
        "nan-age-band",
        run(),
        (CONFIG, "background_per_year", "finite"),
        bad("mortality:\n  background_per_year:\n    value: {u65: .nan}\n"),
    ),
    Case(
        "beds-absurd",
        run(),
        (CONFIG, "beds_per_1000", "1000"),
        bad("settings:\n  hospital:\n    beds_per_1000:\n      value: 1e300\n"),
    ),
    Case(
        "beds-negative",
        run(),
        (CONFIG, "beds_per_1000", "greater than or equal to 0"),
        bad("settings:\n  hospital:\n    beds_per_1000:\n      value: -3\n"),
    ),
    Case(
        "nan-in-range",
        run(),
        (CONFIG, "range", "finite"),
        bad("settings:\n  sop:\n    beds_per_1000:\n      range: [.nan, 5]\n"),
    ),
    Case(
        "range-reversed",
        run(),
        (CONFIG, "range must be"),
        bad("settings:\n  sop:\n    beds_per_1000:\n      range: [5, 1]\n"),
    ),
    Case(
        "probability-above-one",
        run(),
        (CONFIG, "triage.gp_resolve.value", "<= 1"),
        bad("triage:\n  gp_resolve:\n    value: {copd: 1.3}\n"),
    ),
    Case(
        "frailty-over-one",
        run(),
        (CONFIG, "exceeds 1"),
        bad(
            "population:\n  frailty:\n    high:\n"
            "      value: {u65: 0.9, 65-74: 0.9, 75-84: 0.1, 85plus: 0.3}\n"
        ),
    ),
    Case(
        "routing-over-one",
        run(),
        (CONFIG, "must not exceed 1"),
        bad("settings:\n  hospital:\n    stepdown:\n      value: {copd: 0.98}\n"),
    ),
    Case(
        "duty-hours-25",
        run(),
        (CONFIG, "at most 24"),
        bad("settings:\n  home_treatment:\n    on_duty_hours:\n      value: 25\n"),
    ),
    Case(
        "duty-start-24",
        run(),
        (CONFIG, "duty_start_hour"),
        bad("settings:\n  home_treatment:\n    duty_start_hour: 24\n"),
    ),
    Case("scale-zero", run(), (CONFIG, "population.scale"), bad("population:\n  scale: 0\n")),
    Case(
        "scale-nan",
        run(),
        (CONFIG, "population.scale", "finite"),
        bad("population:\n  scale: .nan\n"),
    ),
    Case(
        "slots-absurd",
        run(),
        (CONFIG, "slots_per_1000", "1000"),
        bad("settings:\n  home_treatment:\n    slots_per_1000:\n      value: 1e12\n"),
    ),
    Case(
        "cost-absurd",
        run(),
        (CONFIG, "sop_bed_day_dkk"),
        bad("costs:\n  sop_bed_day_dkk:\n    value: 1e300\n"),
    ),
    # --- names matching nothing
    Case(
        "unknown-group",
        run(),
        (CONFIG, "unknown flu"),
        bad("triage:\n  gp_resolve:\n    value: {flu: 0.3}\n"),
    ),
    Case(
        "unknown-condition",
        run(),
        (CONFIG, "unknown condition"),
        bad("settings:\n  gp:\n    packages:\n      start: {flu: 2027-01-01}\n"),
    ),
    Case(
        "unknown-field",
        run(),
        (CONFIG, "bad.yaml:4", "did you mean 'beds_per_1000'"),
        bad("settings:\n  sop:\n    bedz_per_1000: 3\n"),
    ),
    Case(
        "wrong-type",
        run(),
        (CONFIG, "valid number"),
        bad("settings:\n  sop:\n    beds_per_1000:\n      value: lots\n"),
    ),
    Case("name-with-space", run(), (CONFIG, "name"), bad("name: my scenario\n")),
    Case(
        "period-unknown", run(), (CONFIG, "simulation.period"), bad("simulation:\n  period: week\n")
    ),
    Case(
        "stay-distribution-unknown",
        run(),
        (CONFIG, "distribution"),
        bad("settings:\n  sop:\n    stay:\n      distribution: weibull\n"),
    ),
    Case(
        "hospital-override-misspelt",
        run(),
        (CONFIG, "bad.yaml:5", "beds_override", "tichingg", "teaching"),
        bad("settings:\n  hospital:\n    beds_override:\n      Tichingg: 4\n"),
    ),
    Case(
        "sop-override-misspelt",
        run(),
        (CONFIG, "beds_override", "nordbyy", "nordby"),
        bad("settings:\n  sop:\n    beds_override: {Nordbyy: 4}\n"),
    ),
    Case(
        "override-nan",
        run(),
        (CONFIG, "beds_override", "finite"),
        bad("settings:\n  hospital:\n    beds_override: {Teaching: .nan}\n"),
    ),
    Case(
        "override-negative",
        run(),
        (CONFIG, "beds_override", "greater than or equal to 0"),
        bad("settings:\n  sop:\n    beds_override: {Nordby: -1}\n"),
    ),
    Case(
        "municipality-unknown",
        run(),
        (CONFIG, "geography.municipalities", "atlantis"),
        bad("geography:\n  municipalities: [Atlantis]\n"),
    ),
    Case(
        "municipalities-empty",
        run(),
        (CONFIG, "geography.municipalities", "at least 1"),
        bad("geography:\n  municipalities: []\n"),
    ),
    Case(
        "geography-file-missing",
        run(),
        (CONFIG, "nowhere.csv", "not found"),
        bad("geography:\n  file: nowhere.csv\n"),
    ),
    # --- decision rules
    Case("rule-unknown-builtin", run(), (CONFIG, "greedy"), rule("greedy")),
    Case(
        "rule-relative-import",
        run(),
        (RULE, ".bi_rel", "absolute"),
        rule(".bi_rel:decide", "bi_rel", RULE_OK),
    ),
    Case("rule-no-module", run(), (RULE, "cannot import", "bi_nowhere"), rule("bi_nowhere:decide")),
    Case("rule-no-function", run(), (RULE, "no function", "nosuch"), rule("json:nosuch")),
    Case("rule-not-callable", run(), (RULE, "not callable"), rule("math:pi")),
    Case(
        "rule-wrong-signature",
        run(),
        (RULE, "json:dumps", "(agent, obs, scenario)"),
        rule("json:dumps"),
    ),
    Case(
        "rule-wrong-return",
        run(),
        (RULE, "bi_ret:decide", "decision", "int"),
        rule("bi_ret:decide", "bi_ret", "def decide(agent, obs, scenario):\n    return 42\n"),
    ),
    Case(
        "rule-raises",
        run(),
        (RULE, "bi_raise:decide", "zerodivisionerror"),
        rule(
            "bi_raise:decide", "bi_raise", "def decide(agent, obs, scenario):\n    return 1 / 0\n"
        ),
    ),
    Case(
        "rule-import-fails",
        run(),
        (RULE, "cannot import", "bi_boom"),
        rule("bi_boom:decide", "bi_boom", "raise RuntimeError('no database')\n"),
    ),
    Case(
        "rule-syntax-error",
        run(),
        (RULE, "cannot import", "bi_syntax"),
        rule("bi_syntax:decide", "bi_syntax", "def decide(:\n"),
    ),
    Case(
        "rule-nan-decision",
        run(),
        (RULE, "bi_nan:decide", "finite"),
        rule(
            "bi_nan:decide",
            "bi_nan",
            "def decide(agent, obs, scenario):\n"
            "    return Decision(sop_beds_per_1000=float('nan'))\n",
        ),
    ),
    # --- --set
    Case(
        "set-no-equals",
        (*TEACH, "--set", "settings.sop.beds_per_1000"),
        (CONFIG, "--set", "field=value"),
    ),
    Case("set-empty-field", (*TEACH, "--set", "=3"), (CONFIG, "--set", "empty field")),
    Case(
        "set-unknown-field",
        (*TEACH, "--set", "settings.sop.bedz=3"),
        (CONFIG, "--set", "bedz"),
        absent=("base.yaml", "teaching.yaml"),
    ),
    Case(
        "set-nan",
        (*TEACH, "--set", "settings.sop.beds_per_1000=.nan"),
        (CONFIG, "--set", "finite"),
        absent=("base.yaml",),
    ),
    Case(
        "set-overflow",
        (*TEACH, "--set", "settings.hospital.beds_per_1000=1e400"),
        (CONFIG, "--set", "finite"),
        absent=("base.yaml", "teaching.yaml"),
    ),
    Case(
        "set-mapping",
        (*TEACH, "--set", "settings.sop.beds_per_1000={value: y}"),
        (CONFIG, "--set", "valid number"),
        absent=("base.yaml",),
    ),
    Case("set-unparseable", (*TEACH, "--set", "name=["), (CONFIG, "--set", "cannot parse")),
    Case(
        "set-impossible-date",
        (*TEACH, "--set", "simulation.start=2026-02-30"),
        (CONFIG, "--set", "2026-02-30"),
    ),
    Case("set-into-scalar", (*TEACH, "--set", "name.x=3"), (CONFIG, "--set", "name")),
    # --- geography CSV
    Case(
        "csv-inf-population",
        run(),
        (CONFIG, "geo.csv:2", "population", "finite"),
        geo("Nordby,Teaching,Teaching,Teaching,inf,2900,1900,600,55"),
    ),
    Case(
        "csv-nan-population",
        run(),
        (CONFIG, "geo.csv:2", "population"),
        geo("Nordby,Teaching,Teaching,Teaching,nan,2900,1900,600,55"),
    ),
    Case(
        "csv-absurd-population",
        run(),
        (CONFIG, "geo.csv:2", "at most"),
        geo("Nordby,Teaching,Teaching,Teaching,1e12,2900,1900,600,55"),
    ),
    Case(
        "csv-negative",
        run(),
        (CONFIG, "geo.csv:2", "pop_65_74"),
        geo("Nordby,Teaching,Teaching,Teaching,24000,-2900,1900,600,55"),
    ),
    Case("csv-header", run(), (CONFIG, "geo.csv:1", "expected header"), geo(ROW, header="a,b,c")),
    Case("csv-column-count", run(), (CONFIG, "geo.csv:2", "columns"), geo("Nordby,Teaching")),
    Case("csv-repeated", run(), (CONFIG, "geo.csv:3", "repeated"), geo(ROW, ROW)),
    Case("csv-empty", run(), (CONFIG, "geo.csv"), {**geo(), "geo.csv": ""}),
    Case(
        "csv-not-utf8", run(), (CONFIG, "geo.csv"), {**geo(), "geo.csv": b"municipality\xff\xfe\n"}
    ),
    Case(
        "csv-gp-inf",
        run(),
        (CONFIG, "geo.csv:2", "gp_capacity_per_100k"),
        geo("Nordby,Teaching,Teaching,Teaching,24000,2900,1900,600,inf"),
    ),
    Case(
        "csv-blank-name",
        run(),
        (CONFIG, "geo.csv:2", "municipality"),
        geo(",Teaching,Teaching,Teaching,24000,2900,1900,600,55"),
    ),
    Case(
        "population-too-large",
        run(),
        (TOO_LARGE, "memory", "gb"),
        geo(*[f"M{i},T,T,T,90000000,30000000,30000000,29000000,55" for i in range(20)]),
    ),
    # --- command-line options
    Case("opt-engine", (*TEACH, "--engine", "turbo"), (USAGE, "--engine", "numba")),
    Case("opt-workers-zero", ("run", str(TEACHING), "--workers", "0"), (USAGE, "--workers")),
    Case(
        "opt-replications-huge",
        ("run", str(TEACHING), "--out", "{tmp}/out", "--replications", "1000000000000"),
        (TOO_LARGE, "1,000,000,000,000"),
    ),
    Case("opt-seed-negative", ("run", str(TEACHING), "--seed", "-1"), (USAGE, "--seed")),
    Case("opt-seed-overflow", (*TEACH, "--seed", "100000000000000000000000"), (OPTION, "--seed")),
    Case(
        "duplicate-scenario-names",
        ("run", str(TEACHING), str(TEACHING), "--out", "{tmp}/out", *QUICK),
        (CONFIG, "names must differ"),
    ),
    Case(
        "different-geographies",
        (
            "run",
            str(TEACHING),
            str(ROOT / "configs" / "denmark" / "current.yaml"),
            "--out",
            "{tmp}/out",
            *QUICK,
        ),
        (CONFIG, "share a geography"),
    ),
    Case("no-config-given", ("run",), (USAGE, "missing argument")),
    # --- output directories
    Case(
        "out-user-directory",
        ("run", str(TEACHING), "--out", "{tmp}/thesis", *SHORT, *QUICK),
        (OUTPUT, "thesis", "not a sektorsim run directory"),
        THESIS,
    ),
    Case(
        "out-existing-file",
        ("run", str(TEACHING), "--out", "{tmp}/notes.txt", *SHORT, *QUICK),
        (OUTPUT, "notes.txt", "is a file"),
        {"notes.txt": "my notes\n"},
    ),
    Case(
        "out-existing-run",
        ("run", str(TEACHING), "--out", "{tmp}/prev", *SHORT, *QUICK),
        (OUTPUT, "prev", "--force"),
        setup=copy_run(),
    ),
    Case(
        "out-force-foreign-file",
        ("run", str(TEACHING), "--out", "{tmp}/prev", "--force", *SHORT, *QUICK),
        (OUTPUT, "notes.txt", "not written by sektorsim"),
        setup=copy_run(edit=write("notes.txt", b"mine\n")),
    ),
    Case(
        "out-parent-is-file",
        ("run", str(TEACHING), "--out", "{tmp}/afile/run", *SHORT, *QUICK),
        (OUTPUT, "afile", "not a directory"),
        {"afile": "x\n"},
    ),
    Case(
        "out-read-only",
        ("run", str(TEACHING), "--out", "/sys/sektorsim-run", *SHORT, *QUICK),
        (OUTPUT, "/sys", "not writable"),
    ),
    Case(
        "out-dot",
        ("run", str(TEACHING), "--out", ".", *SHORT, *QUICK),
        (OUTPUT, "not a sektorsim run directory"),
        THESIS,
    ),
    Case(
        "out-symlink-to-user-dir",
        ("run", str(TEACHING), "--out", "{tmp}/link", *SHORT, *QUICK),
        (OUTPUT, "link", "not a sektorsim run directory"),
        THESIS,
        setup=symlink("link", "thesis"),
    ),
    Case(
        "out-locked",
        ("run", str(TEACHING), "--out", "{tmp}/out", *SHORT, *QUICK),
        (OUTPUT, "in use"),
        setup=hold_lock("out"),
    ),
    Case(
        "out-no-free-disk",
        ("run", str(TEACHING), "--out", "{tmp}/out", *SHORT, *QUICK),
        (OUTPUT, "free disk"),
        setup=no_free_disk,
    ),
    Case(
        "out-default-is-user-dir",
        ("run", str(TEACHING), *SHORT, *QUICK),
        (OUTPUT, "results/latest", "not a sektorsim run directory"),
        {"results/latest/mine.csv": "a,b\n"},
    ),
    Case(
        "decompose-out-user-dir",
        ("decompose", str(TEACHING), "--out", "{tmp}/thesis", *SHORT, *QUICK),
        (OUTPUT, "thesis"),
        THESIS,
    ),
    Case(
        "batch-out-user-dir",
        ("batch", "{tmp}/exp.yaml", "--out", "{tmp}/thesis", "--quiet", "--no-report"),
        (OUTPUT, "thesis"),
        {**THESIS, **experiment("")},
    ),
    Case(
        "batch-resume-user-dir",
        ("batch", "{tmp}/exp.yaml", "--out", "{tmp}/thesis", "--resume", "--quiet"),
        (BATCH_DIR, "thesis", "experiment.json"),
        {**THESIS, **experiment("")},
    ),
    Case("init-non-empty", ("init", "{tmp}/thesis"), (OUTPUT, "not empty"), THESIS),
    Case(
        "validate-model-out-user-dir",
        ("validate-model", "--quick", "--out", "{tmp}/thesis"),
        (OUTPUT, "thesis"),
        THESIS,
    ),
    Case(
        "calibrate-out-user-dir",
        (
            "calibrate",
            str(ROOT / "configs" / "denmark" / "base.yaml"),
            "--targets",
            str(TARGETS),
            "--out",
            "{tmp}/thesis",
            "--quiet",
        ),
        (OUTPUT, "thesis"),
        THESIS,
    ),
    # --- run directories read by replay and report
    Case("replay-missing-dir", ("replay", "{tmp}/nope"), (RUN_DIR, "nope", "not found")),
    Case("replay-no-manifest", ("replay", "{tmp}/thesis"), (RUN_DIR, "no manifest.json"), THESIS),
    Case(
        "replay-manifest-empty",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "manifest.json", "kind"),
        setup=copy_run(edit=write("manifest.json", b"{}")),
    ),
    Case(
        "replay-manifest-malformed",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "manifest.json", "malformed json"),
        setup=copy_run(edit=write("manifest.json", b'{"kind": ')),
    ),
    Case(
        "replay-manifest-list",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "manifest.json"),
        setup=copy_run(edit=write("manifest.json", b"[]")),
    ),
    Case(
        "replay-manifest-wrong-type",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "manifest.json", "replications"),
        setup=copy_run(edit=edit_manifest(set_key("replications", "many"))),
    ),
    Case(
        "replay-decompose-dir",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "decompose", "cannot be replayed"),
        setup=copy_run(edit=edit_manifest(set_key("kind", "decompose"))),
    ),
    Case(
        "replay-truncated-kpis",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "kpis.parquet", "parquet"),
        setup=copy_run(edit=truncate("kpis.parquet")),
    ),
    Case(
        "replay-missing-kpis",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "kpis.parquet", "not found"),
        setup=copy_run(edit=remove("kpis.parquet")),
    ),
    Case(
        "replay-invalid-config",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "scenarios[0]", "seed"),
        setup=copy_run(edit=edit_manifest(set_key("scenarios.0.config.simulation.seed", -1))),
    ),
    Case(
        "replay-geography-changed",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "has changed"),
        setup=copy_run(edit=edit_manifest(set_key("scenarios.0.geography.sha256", "0" * 64))),
    ),
    Case(
        "replay-geography-missing",
        ("replay", "{tmp}/prev"),
        (RUN_DIR, "nowhere.csv", "not found"),
        setup=copy_run(edit=edit_manifest(set_key("scenarios.0.geography.file", "/nowhere.csv"))),
    ),
    Case("replay-sample-zero", ("replay", "{tmp}/prev", "--sample", "0"), (USAGE, "--sample")),
    Case(
        "report-missing-kpis",
        ("report", "{tmp}/prev"),
        (RUN_DIR, "kpis.parquet", "not found"),
        setup=copy_run(edit=remove("kpis.parquet")),
    ),
    Case(
        "report-truncated-kpis",
        ("report", "{tmp}/prev"),
        (RUN_DIR, "kpis.parquet"),
        setup=copy_run(edit=truncate("kpis.parquet")),
    ),
    Case(
        "report-kpis-not-parquet",
        ("report", "{tmp}/prev"),
        (RUN_DIR, "kpis.parquet"),
        setup=copy_run(edit=write("kpis.parquet", b"scenario,kpi\nx,1\n")),
    ),
    Case(
        "report-kpis-wrong-columns",
        ("report", "{tmp}/prev"),
        (RUN_DIR, "kpis.parquet", "column"),
        setup=copy_run(edit=kpis_without_columns),
    ),
    Case(
        "report-manifest-empty",
        ("report", "{tmp}/prev"),
        (RUN_DIR, "manifest.json"),
        setup=copy_run(edit=write("manifest.json", b"{}")),
    ),
    Case("report-not-a-run", ("report", "{tmp}/thesis"), (RUN_DIR, "no manifest.json"), THESIS),
    # --- experiments and batches
    Case(
        "exp-malformed",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "exp.yaml", "malformed"),
        {"exp.yaml": "name: [\n"},
    ),
    Case(
        "exp-scenario-missing",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "nowhere.yaml", "not found"),
        experiment("", "scenarios:\n  - config: nowhere.yaml\n"),
    ),
    Case(
        "exp-psa-draws-huge",
        ("batch", "{tmp}/exp.yaml", "--out", "{tmp}/b"),
        (TOO_LARGE, "300,000,000", "draws"),
        psa("3e8", "costs.hospital_bed_day_dkk", "uniform", "{loc: 5000, scale: 2000}"),
        absent=("--set",),
    ),
    Case(
        "exp-psa-nan",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "exp.yaml", "finite"),
        psa("2", "costs.hospital_bed_day_dkk", "uniform", "{loc: .nan, scale: 2000}"),
    ),
    Case(
        "exp-psa-unknown-distribution",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "distribution"),
        psa("2", "costs.hospital_bed_day_dkk", "cauchy", "{}"),
    ),
    Case(
        "exp-psa-misspelt-field",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "exp.yaml:9", "settings.sop.bedz"),
        psa("2", "settings.sop.bedz", "uniform", "{loc: 1, scale: 2}"),
        absent=("--set",),
    ),
    Case(
        "exp-psa-no-median",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "finite median"),
        psa("2", "costs.hospital_bed_day_dkk", "gamma", "{a: -1}"),
    ),
    Case(
        "exp-sweep-nan",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "finite"),
        experiment("sweep:\n  grid:\n    settings.sop.beds_per_1000: [.nan]\n"),
    ),
    Case(
        "exp-sweep-misspelt-field",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "exp.yaml:8", "settings.sop.bedz"),
        experiment("sweep:\n  grid:\n    settings.sop.bedz: [1, 2]\n"),
        absent=("--set",),
    ),
    Case(
        "exp-lhs-reversed",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "low", "high"),
        experiment(
            "sweep:\n  latin_hypercube:\n    samples: 2\n    parameters:\n"
            "      settings.sop.beds_per_1000: [5, 1]\n"
        ),
    ),
    Case(
        "exp-lhs-inf",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "finite"),
        experiment(
            "sweep:\n  latin_hypercube:\n    samples: 2\n    parameters:\n"
            "      settings.sop.beds_per_1000: [0, .inf]\n"
        ),
    ),
    Case(
        "exp-sweep-and-psa",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "either sweep or psa"),
        experiment("sweep: {}\npsa:\n  draws: 1\n  parameters: {}\n"),
    ),
    Case(
        "exp-baseline-unknown",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "no scenario named"),
        experiment("baseline: reform\n"),
    ),
    Case(
        "exp-duplicate-names",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "names must differ"),
        experiment("", f"scenarios:\n  - config: {TEACHING}\n  - config: {TEACHING}\n"),
    ),
    Case(
        "exp-replications-huge",
        ("batch", "{tmp}/exp.yaml", "--out", "{tmp}/b"),
        (TOO_LARGE, "1,000,000,000,000"),
        {
            "exp.yaml": f"name: exp\nscenarios:\n  - config: {TEACHING}\n"
            "replications: 1e12\nseed: 1\n"
        },
    ),
    Case(
        "exp-scenario-set-bad",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "exp.yaml:4", "settings.sop.bedz"),
        experiment("", f"scenarios:\n  - config: {TEACHING}\n    set: [settings.sop.bedz=3]\n"),
        absent=("base.yaml",),
    ),
    Case(
        "exp-scenarios-not-list",
        ("batch", "{tmp}/exp.yaml"),
        (EXPERIMENT, "scenarios"),
        experiment("", "scenarios: teaching\n"),
    ),
    Case(
        "batch-resume-truncated-plan",
        ("batch", "{tmp}/exp.yaml", "--out", "{tmp}/b", "--resume", "--quiet"),
        (BATCH_DIR, "experiment.json", "malformed json"),
        experiment(""),
        setup=batch_dir(plan=b'{"digest": "ab'),
    ),
    Case(
        "batch-resume-plan-list",
        ("batch", "{tmp}/exp.yaml", "--out", "{tmp}/b", "--resume", "--quiet"),
        (BATCH_DIR, "experiment.json"),
        experiment(""),
        setup=batch_dir(plan=b"[]"),
    ),
    Case(
        "batch-resume-corrupt-part",
        ("batch", "{tmp}/exp.yaml", "--out", "{tmp}/b", "--resume", "--quiet"),
        (BATCH_DIR, "kpis-s000-d0000-r0000.parquet"),
        experiment(""),
        setup=batch_dir(part=b"PAR1\x00\x00"),
    ),
    Case(
        "batch-backend-unknown",
        ("batch", "{tmp}/exp.yaml", "--backend", "slurm"),
        (USAGE, "--backend", "local"),
        experiment(""),
    ),
    Case(
        "batch-scheduler-without-dask",
        ("batch", "{tmp}/exp.yaml", "--scheduler", "tcp://x:1"),
        (OPTION, "--scheduler"),
        experiment(""),
    ),
    # --- calibration targets
    Case(
        "targets-missing",
        ("calibrate", str(TEACHING), "--targets", "{tmp}/nowhere.yaml", "--check"),
        (CONFIG, "nowhere.yaml", "not found"),
    ),
    Case(
        "targets-malformed",
        ("calibrate", str(TEACHING), "--targets", "{tmp}/t.yaml", "--check"),
        (CONFIG, "t.yaml", "malformed yaml"),
        {"t.yaml": "targets: [\n"},
    ),
]

MADE_RUN: dict[str, Path] = {}
LOCKS: list = []


@pytest.fixture(scope="module", autouse=True)
def made_run(tmp_path_factory):
    """One short real run, copied (and damaged) by the cases that need a run directory."""
    where = tmp_path_factory.mktemp("made") / "run"
    result = runner.invoke(app, ["run", str(TEACHING), "--out", str(where), *SHORT, *QUICK])
    assert result.exit_code == 0, result.output
    MADE_RUN["dir"] = where
    return where


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under root: kind, mode and content hash (symlinks not followed)."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = ("link", str(path.readlink()))
        elif path.is_dir():
            out[rel] = ("dir", st.st_mode)
        else:
            out[rel] = ("file", st.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def _fill(arg: str, tmp: Path) -> str:
    return arg.replace("{tmp}", str(tmp))


def invoke(argv: list[str]):
    result = runner.invoke(app, argv, catch_exceptions=True)
    exc = result.exception
    crashed = exc is not None and not isinstance(exc, SystemExit)
    return result, crashed


def test_there_are_at_least_100_distinct_classes():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(tmp_path))  # where the cases' decision-rule modules live
    monkeypatch.chdir(tmp_path)  # default outputs (results/...) land here, never in the repo
    for rel, content in case.files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    if case.setup:
        case.setup(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    try:
        result, crashed = invoke([_fill(a, tmp_path) for a in case.argv])
    finally:
        while LOCKS:
            LOCKS.pop().__exit__(None, None, None)
        for name in [
            m
            for m, mod in sys.modules.items()
            if str(getattr(mod, "__file__", "")).startswith(str(tmp_path))
        ]:
            del sys.modules[name]
    text = " ".join(result.output.split()).lower()
    assert not crashed, f"traceback instead of a message: {result.exception!r}\n{result.output}"
    assert "traceback" not in text
    assert result.exit_code == 2, result.output
    for word in case.expect:
        assert word.lower() in text, f"{word!r} not in:\n{result.output}"
    for word in case.absent:
        assert word.lower() not in text, f"{word!r} should not be in:\n{result.output}"
    assert snapshot(tmp_path) == before, "files changed outside the intended output"


def test_force_replaces_an_earlier_run_and_the_lock_is_released(tmp_path):
    """The accepted side of the policy: --force replaces sektorsim's own run directory,
    leaves nothing hidden behind, and the lock of a finished run does not linger."""
    shutil.copytree(MADE_RUN["dir"], tmp_path / "prev")
    (tmp_path / "prev" / "figures").mkdir()  # ours too (written by `report`)
    old = (tmp_path / "prev" / "manifest.json").read_bytes()
    argv = ["run", str(TEACHING), "--out", str(tmp_path / "prev"), "--force", *SHORT, *QUICK]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "prev" / "manifest.json").read_bytes() != old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prev"]
    with _files().output_lock(tmp_path / "prev"):
        pass


def test_an_empty_directory_is_a_new_output(tmp_path):
    (tmp_path / "empty").mkdir()
    argv = ["run", str(TEACHING), "--out", str(tmp_path / "empty"), *SHORT, *QUICK]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "empty" / "manifest.json").is_file()


def test_a_good_user_rule_passes_the_check(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(tmp_path))
    for rel, content in rule("bi_good:decide", "bi_good", RULE_OK).items():
        (tmp_path / rel).write_text(content)
    result = runner.invoke(app, ["validate", str(tmp_path / "bad.yaml")])
    sys.modules.pop("bi_good", None)
    assert result.exit_code == 0, result.output
