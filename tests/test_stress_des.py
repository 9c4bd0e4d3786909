"""A run directory yields a complete STRESS-DES checklist: every item once, none left blank."""

import json
import re
import shutil
from pathlib import Path

import pytest

from sim.errors import ConfigError
from sim.report.stress_des import write_stress_des

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "results" / "published" / "teaching"
ITEM_NUMBERS = [
    "1.1",
    "1.2",
    "1.3",
    "2.1",
    "2.2",
    "2.3",
    "2.4",
    "2.5",
    "2.5.1",
    "2.5.2",
    "2.5.3",
    "2.5.4",
    "2.5.5",
    "3.1",
    "3.2",
    "3.3",
    "3.4",
    "4.1",
    "4.2",
    "4.3",
    "5.1",
    "5.2",
    "5.3",
    "5.4",
    "6.1",
]
ITEM_HEADING = re.compile(r"^#{3,4} (\d+\.\d+(?:\.\d+)?) \S", re.MULTILINE)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(PUBLISHED, out)
    return out


def answers(text: str) -> dict[str, str]:
    """Item number -> the text under its heading (up to the next heading)."""
    parts = re.split(r"^#+ .*$", text, flags=re.MULTILINE)[1:]
    headings = re.findall(r"^#+ .*$", text, flags=re.MULTILINE)
    return {
        m.group(1): body.strip() for h, body in zip(headings, parts) if (m := ITEM_HEADING.match(h))
    }


def check_complete(text: str) -> None:
    assert ITEM_HEADING.findall(text) == ITEM_NUMBERS  # each item exactly once, in order
    empty = [number for number, body in answers(text).items() if not body]
    assert not empty, f"items without an answer: {empty}"


def test_published_run_fills_every_item(run_dir):
    path = write_stress_des(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))

    assert path == run_dir / "stress-des.md" and path.is_file()
    text = path.read_text(encoding="utf-8")
    check_complete(text)
    by_item = answers(text)
    assert f"Master seed {manifest['seed']}" in by_item["5.2"]
    assert f"{manifest['replications']} replications" in by_item["4.3"]
    assert manifest["code"]["commit"] in by_item["5.4"]
    assert f"numba {manifest['versions']['numba']}" in by_item["5.1"]
    for scenario in manifest["scenarios"]:
        assert f"`{scenario['name']}`" in by_item["1.3"]
        assert f"`{scenario['name']}`" in by_item["2.3"]


def test_batch_and_decompose_manifests_fill_every_item(run_dir):
    """Batch manifests repeat scenarios per draw and lack overrides; decompose lacks geography."""
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    batch = {
        **manifest,
        "kind": "batch",
        "draws": [{"costs.hospital_bed_day_dkk": 5500.0}] * 2,
        "experiment": {
            "name": "psa",
            "baseline": "teaching",
            "psa": {"draws": 2, "parameters": {"costs.hospital_bed_day_dkk": {}}},
        },
        "scenarios": [s for s in manifest["scenarios"] for _ in range(2)],
    }
    del batch["overrides"]
    no_geography = [{k: v for k, v in s.items() if k != "geography"} for s in manifest["scenarios"]]
    decompose = {**manifest, "kind": "decompose", "scenarios": no_geography}
    for variant in (batch, decompose):
        (run_dir / "manifest.json").write_text(json.dumps(variant), encoding="utf-8")
        text = write_stress_des(run_dir).read_text(encoding="utf-8")
        check_complete(text)
        for item in ("1.3", "2.3", "3.1"):  # one line per scenario, not per draw
            assert answers(text)[item].count("- `teaching-reform`:") == 1
    assert "not recorded in the manifest" in answers(text)["3.1"]  # decompose: no geography hash


def test_directory_without_manifest_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="manifest.json"):
        write_stress_des(tmp_path)
    assert not (tmp_path / "stress-des.md").exists()
