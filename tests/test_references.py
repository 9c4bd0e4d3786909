"""Every file the repository cites is in the repository (issue 10: a self-contained repo).

Scans the text files of sim/, configs/, experiments/, docs/, benchmarks/, tests/,
README.md and CHANGELOG.md for references to files (``*.md``, ``*.yaml``, ``*.csv``,
``*.py``, ``*.json``, ``*.parquet``, optionally with a ``#anchor``) and checks that each
resolves inside the repository, relative to the repository root, to the citing file or
to the package ``sim/``; an anchor must be a heading or an explicit ``<a id="...">`` of
the target. It also rejects paths that point outside the repository (the authors'
shared folders).

Standard library only: it imports nothing from ``sim``.
"""

from __future__ import annotations

import io
import re
import token
import tokenize
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = (
    "sim",
    "configs",
    "experiments",
    "docs",
    "benchmarks",
    "tests",
    "README.md",
    "CHANGELOG.md",
)
TEXT_SUFFIXES = frozenset({".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini", ".sh"})
SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".venv"})
#: This file is not scanned: its self-test cites missing files on purpose.
SELF = Path(__file__).resolve()
#: Paths inside the package may also be written relative to it (`flow/kernel.py`).
PACKAGE = ROOT / "sim"

#: Files a run or a command creates (so they need not exist in the repository), each with
#: the reason. A reference to a file of one of these names is accepted.
CREATED_BY_RUNS: dict[str, str] = {
    "kpis.parquet": "KPI table every `sektorsim run`/`batch` writes to its run directory",
    "agents.parquet": "organisation agents' table every run writes",
    "practices.parquet": "general practices' table every `sektorsim run` writes",
    "equity.parquet": "equity table (spread across areas, who gains) every run writes",
    "manifest.json": "run manifest every run, calibration and batch writes",
    "report.html": "self-contained report every run, batch and validation writes",
    "report.md": "Markdown twin of report.html",
    "stress-des.md": "STRESS-DES checklist every run writes",
    "summary.json": "machine-readable summary a run writes",
    "fit.csv": "calibration fit `sektorsim calibrate` writes",
    "fit.parquet": "calibration fit `sektorsim calibrate` writes",
    "history.parquet": "calibration search history `sektorsim calibrate` writes",
    "validation.json": "numbers of the report `sektorsim validate-model` writes",
    "trace.json": "patient trace `sektorsim trace` writes",
    "analysis.parquet": "per-scenario means and CIs `sektorsim batch` writes",
    "decomposition.parquet": "lever decomposition `sektorsim decompose` writes",
    "experiment.json": "batch plan `sektorsim batch` writes beside its results",
}

#: Files the user creates in the documented examples, and names that are not files.
NOT_IN_REPO: dict[str, str] = {
    "my-study/scenario.yaml": "written by `sektorsim init my-study` (README, CLI help)",
    "my-study/reform.yaml": "written by `sektorsim init my-study` (README, CLI help)",
    "my-scenario.yaml": "the user's own copy of a config (README)",
    "my_rules.py": "the user's own decision-rule module (docs/decision-rules.md)",
    "cluster.py": "the user's own Dask cluster script shown in the README",
    "/.config/dask/sektorsim.yaml": "the user's Dask config file (~/.config/...) in the README",
    "ruamel.yaml": "a Python package, not a file",
    "statvar_imports/denmark_demographics/test_data/population_sex_age_time_input.csv": (
        "a file of the public GitHub repository datacommonsorg/data, cited as a source"
    ),
}

#: Paths that point outside the repository (the authors' shared folders); any occurrence
#: is an error.
OUTSIDE = re.compile(
    r"(?<![\w.])/wor[k]/|(?<![\w.-])(?:\.\./)*share[d]/(?:data|seeds)\b|\bseed[s]/\d{3}"
)

REFERENCE = re.compile(
    r"(?<![\w./@:-])"  # not inside a longer token, a URL or a module path
    r"((?:\.{1,2}/|/)?(?:[\w.-]+/)*[\w.-]*\w\.(?:md|yaml|yml|csv|py|json|parquet))"
    r"(?:#([\w-]+))?"
    r"(?![\w/(])"  # a whole name, and not a call such as `path.py(...)`
)
LOCAL_ANCHOR = re.compile(r"\]\(#([\w-]+)\)")
URL_BEFORE = re.compile(r"(?:https?://|www\.)\S*$")


@dataclass(frozen=True)
class Reference:
    """One reference to a file found in a scanned file."""

    citing: Path
    line: int
    path: str
    anchor: str | None

    def __str__(self) -> str:
        target = self.path + (f"#{self.anchor}" if self.anchor else "")
        return f"{self.citing.relative_to(ROOT)}:{self.line}: {target}"


def is_scanned(path: Path) -> bool:
    """A text file outside caches, and not this file."""
    return (
        path.is_file()
        and path.suffix in TEXT_SUFFIXES
        and not SKIPPED_DIRS & set(path.parts)
        and path.resolve() != SELF
    )


def scanned_files(root: Path = ROOT) -> list[Path]:
    """The text files the test reads, in a stable order."""
    files: list[Path] = []
    for name in SCANNED:
        top = root / name
        files += [p for p in ([top] if top.is_file() else sorted(top.rglob("*"))) if is_scanned(p)]
    return files


def segments(text: str, suffix: str) -> list[tuple[int, str, bool]]:
    """(first line, text, is_code) pieces of a file.

    In Python, comments and docstrings are prose (every reference is checked); other string
    literals are code, whose bare file names (``tmp_path / "a.yaml"``, outputs a function
    writes) are run-time names, so only their paths with a folder are checked. Other
    files are prose throughout.
    """
    if suffix != ".py":
        return [(1, text, False)]
    pieces: list[tuple[int, str, bool]] = []
    string_kinds = {token.STRING, getattr(token, "FSTRING_MIDDLE", token.STRING)}
    previous = token.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == token.COMMENT:
            pieces.append((tok.start[0], tok.string, False))
        elif tok.type in string_kinds:
            docstring = tok.type == token.STRING and previous in (
                token.NEWLINE,
                token.INDENT,
                token.DEDENT,
            )
            pieces.append((tok.start[0], tok.string, not docstring))
        if tok.type not in (token.NL, token.COMMENT):
            previous = tok.type
    return pieces


def references(text: str, citing: Path) -> list[Reference]:
    """File references in `text` (URLs excluded), with their line numbers."""
    found: list[Reference] = []
    for first, piece, is_code in segments(text, citing.suffix):
        for lineno, line in enumerate(piece.splitlines(), start=first):
            for match in REFERENCE.finditer(line):
                path, before = match.group(1), line[: match.start()]
                if URL_BEFORE.search(before):
                    continue
                if before.endswith("}"):  # f"{ROOT}/configs/x.yaml" or f"{name}.yaml"
                    if not path.startswith("/"):
                        continue
                    path = path.lstrip("/")
                in_tests = citing.is_relative_to(ROOT / "tests")
                if (is_code or in_tests) and "/" not in path or is_code and in_tests:
                    continue  # tests build their own file trees at run time
                found.append(Reference(citing, lineno, path, match.group(2)))
            if citing.suffix == ".md":
                found += [
                    Reference(citing, lineno, citing.name, a) for a in LOCAL_ANCHOR.findall(line)
                ]
    return found


def outside_paths(text: str, citing: Path) -> list[str]:
    """Places where `text` points outside the repository."""
    rel = citing.relative_to(ROOT) if citing.is_relative_to(ROOT) else citing
    return [
        f"{rel}:{lineno}: {m.group(0)!r} in {line.strip()[:90]!r}"
        for lineno, line in enumerate(text.splitlines(), start=1)
        for m in OUTSIDE.finditer(line)
    ]


@cache
def files_by_name() -> dict[str, list[Path]]:
    """Every file of the repository by its name (for bare names such as `kernel.py`)."""
    index: dict[str, list[Path]] = {}
    for path in ROOT.rglob("*"):
        if path.is_file() and not SKIPPED_DIRS & set(path.parts) and ".git" not in path.parts:
            index.setdefault(path.name, []).append(path)
    return index


def resolve(ref: Reference) -> Path | None:
    """The repository file `ref` names, or None."""
    raw = ref.path
    if raw.startswith("/"):
        candidates = [Path(raw)]
    else:
        candidates = [ROOT / raw, ref.citing.parent / raw, PACKAGE / raw]
        if "/" not in raw:  # a bare name in prose: any file of that name in the repository
            candidates += files_by_name().get(raw, [])
    for candidate in candidates:
        path = candidate.resolve()
        if path.is_file() and path.is_relative_to(ROOT):
            return path
    return None


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Anchors a Markdown file defines: heading slugs and explicit ids/names."""
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", text))
    seen: dict[str, int] = {}
    for line in text.splitlines():
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            base = slug(heading.group(1))
            n = seen.get(base, 0)
            found.add(base if n == 0 else f"{base}-{n}")
            seen[base] = n + 1
    return frozenset(found)


def problem(ref: Reference) -> str | None:
    """Why `ref` does not resolve, or None if it does."""
    if ref.anchor is None and Path(ref.path).name in CREATED_BY_RUNS:
        return None
    if ref.path in NOT_IN_REPO:
        return None
    target = resolve(ref)
    if target is None:
        return f"{ref}: no such file in the repository"
    if ref.anchor is not None:
        if target.suffix != ".md":
            return f"{ref}: anchors are only checked in Markdown files"
        if ref.anchor not in anchors(target):
            return f"{ref}: no heading or <a id> '{ref.anchor}' in {target.relative_to(ROOT)}"
    return None


def dangling(files: list[Path]) -> list[str]:
    """Every unresolved reference and every outside path in `files`."""
    problems: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        problems += outside_paths(text, path)
        problems += [p for ref in references(text, path) if (p := problem(ref)) is not None]
    return problems


@pytest.mark.parametrize("top", SCANNED)
def test_every_reference_resolves(top: str) -> None:
    """Every file reference in `top` resolves inside the repository."""
    files = [f for f in scanned_files() if f.relative_to(ROOT).parts[0] == top]
    assert files, f"nothing scanned under {top}"
    problems = dangling(files)
    assert not problems, "references to files that are not in the repository:\n" + "\n".join(
        problems
    )


def test_the_check_can_fail(tmp_path: Path) -> None:
    """A fake dangling reference, a missing anchor and an outside path are all reported."""
    citing = ROOT / "docs" / "model.md"  # read only: its folder and its own anchors are used
    text = "\n".join(
        [
            "See " + "MOD" + "EL.md section 9 and docs/no-such-page.md.",
            "Figures: docs/sources.md#no-such-anchor; the model: docs/model.md#1-the-question.",
            "Data in /wor" + "k/shared/data/municipalities.csv and seed" + "s/002.",
            "Outputs: results/latest/kpis.parquet, code sim/outputs/kpis.py, see glossary.md.",
            "Not files: https://example.org/page.md, sim.flow.kernel, *.py.",
            "A local [link](#no-such-heading).",
        ]
    )
    refs = references(text, citing)
    found = {str(r).split(": ", 1)[1] for r in refs}
    assert {"MODEL.md", "docs/no-such-page.md", "docs/sources.md#no-such-anchor"} <= found
    assert not {"page.md", "https://example.org/page.md", "*.py"} & found  # URLs and globs
    problems = [p for r in refs if (p := problem(r)) is not None]
    joined = "\n".join(problems)
    assert "MODEL.md: no such file" in joined
    assert "docs/no-such-page.md: no such file" in joined
    assert "no heading or <a id> 'no-such-anchor'" in joined
    assert "no heading or <a id> 'no-such-heading'" in joined
    assert "docs/model.md#1-the-question" not in joined  # heading slug resolves
    assert (
        "kpis.parquet" not in joined
        and "sim/outputs/kpis.py" not in joined
        and "glossary.md" not in joined
    )
    assert "/work/shared/data/municipalities.csv: no such file" in joined
    assert len(problems) == 5
    outside = outside_paths(text, tmp_path / "x.md")
    assert len(outside) == 3  # /work/, shared/data and the seeds folder


def test_slug_matches_github() -> None:
    """Heading anchors follow GitHub's rule (lower case, punctuation dropped, spaces to -)."""
    assert (
        slug("Triage of an episode (patient at HOME, time t)")
        == "triage-of-an-episode-patient-at-home-time-t"
    )
    assert slug("10. Evidence") == "10-evidence"
    assert slug('<a id="x"></a>Sundheds- og omsorgspladser') == "sundheds--og-omsorgspladser"
