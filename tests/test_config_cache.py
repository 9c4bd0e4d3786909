"""The loader keeps what it parsed (sim.config.loader._PARSED): a file read again gives an
equal tree that shares nothing with the first, and a changed file is parsed anew."""

from pathlib import Path

import pytest

from sim.config.loader import load_yaml
from sim.errors import ConfigError


def test_a_file_read_again_is_equal_and_shares_nothing(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_text("a:\n  b: [1, 2]\nc: 2026-01-01\n", encoding="utf-8")
    first, lines = load_yaml(path)
    first["a"]["b"].append(3)
    lines["a.b"] = ("elsewhere", 99)
    second, lines2 = load_yaml(path)
    assert second == {"a": {"b": [1, 2]}, "c": first["c"]}
    assert lines2["a.b"] == (str(path), 2)


def test_a_changed_file_is_parsed_anew_and_bad_text_is_never_kept(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    assert load_yaml(path)[0] == {"a": 1}
    path.write_text("a: 2\n", encoding="utf-8")
    assert load_yaml(path)[0] == {"a": 2}
    path.write_text("a: [\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError, match="malformed YAML"):
            load_yaml(path)
