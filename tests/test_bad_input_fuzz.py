"""Random mutations of the shipped teaching config never produce a traceback.

Validation only (`sektorsim validate`, in-process): each example replaces one field of
the resolved config with a hostile value, or damages the YAML text, and must end in exit
code 0 or 2 with no exception escaping.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
runner = CliRunner()


def _leaves(node: object, prefix: str = "") -> list[str]:
    """Dotted paths of every field of a plain config (lists indexed)."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in [f"{prefix}{k}", *_leaves(v, f"{prefix}{k}.")]]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, f"{prefix}{i}.")]
    return []


BASE_TEXT = (
    TEACHING.read_text(encoding="utf-8")
    .replace("extends: denmark/base.yaml", f"extends: {TEACHING.parent / 'denmark' / 'base.yaml'}")
    .replace(
        "file: geography/teaching.csv", f"file: {TEACHING.parent / 'geography' / 'teaching.csv'}"
    )
)
BASE = YAML(typ="safe", pure=True).load(BASE_TEXT)
PATHS = sorted(
    set(_leaves(BASE))
    | {
        "settings.sop.beds_per_1000.value",
        "simulation.end",
        "settings.hospital.beds_override",
        "organisations.decision_rule",
    }
)

HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.lists(st.floats(allow_nan=True), max_size=3),
    st.dictionaries(
        st.text(max_size=8), st.floats(allow_nan=True, allow_infinity=True), max_size=3
    ),
    st.sampled_from(
        [".nan", ".inf", "-.inf", "1e400", "2026-02-30", "json:dumps", ".x:y", "[[[[", "*a", "&a"]
    ),
)


def _set(data: dict, path: str, value: object) -> None:
    keys = path.split(".")
    node: object = data
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
        if not isinstance(node, (dict, list)):
            return
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _validate(tmp: Path, text: str) -> None:
    cfg = tmp / "fuzz.yaml"
    cfg.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(cfg)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=st.sampled_from(PATHS), value=HOSTILE)
def test_one_hostile_field_never_crashes(tmp_path, path, value):
    data = YAML(typ="safe", pure=True).load(BASE_TEXT)
    _set(data, path, value)
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buf)
    _validate(tmp_path, buf.getvalue())


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    at=st.integers(min_value=0, max_value=len(BASE_TEXT)),
    cut=st.integers(0, 40),
    insert=st.text(alphabet=":-[]{}&*!|>'\"#%@ \n\t0123456789.e", max_size=12),
)
def test_damaged_text_never_crashes(tmp_path, at, cut, insert):
    _validate(tmp_path, BASE_TEXT[:at] + insert + BASE_TEXT[at + cut :])
