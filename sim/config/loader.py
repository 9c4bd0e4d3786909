"""Load YAML configs into pydantic models, with errors that name file, line and field.

YAML 1.2 through ruamel.yaml (`no` stays a string, `1e5` is a number). A file may
`extends:` other files (deep merge, the extending file wins); `--set a.b=v` overrides
come last. Any problem becomes a `ConfigError` listing every problem found.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
    ScalarEvent,
)

from sim.errors import ConfigError, Problem

M = TypeVar("M", bound=BaseModel)
#: dotted field path -> (file, 1-based line or None)
LineMap = dict[str, tuple[str, int | None]]


@dataclass(frozen=True)
class LoadedConfig(Generic[M]):
    config: M
    data: dict
    files: list[Path]
    lines: LineMap


#: A config is a few levels deep and uses a handful of anchors; far more is an attack or an
#: accident ("billion laughs", runaway nesting) that would hang or crash the loader.
MAX_DEPTH = 64
MAX_ALIASES = 100
MAX_NODES = 100_000
#: Tags a config may spell out; others (!!python/object, local !tags) are refused.
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")
)
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass(frozen=True)
class Override:
    """A `FIELD=VALUE` override and where the user wrote it, so a problem points there:
    `--set` on the command line, or a line of an experiment file."""

    text: str
    file: str = "--set"
    line: int | None = None


# ------------------------------------------------------------------------- reading
def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def _scan(text: str, shown: str, line_of=lambda line: line) -> None:
    """Refuse, from the event stream (cheap, never recursive), what the loader would choke
    on: deep nesting, many aliases, foreign tags, and dates that do not exist."""
    depth = aliases = 0
    for event in _yaml().parse(io.StringIO(text)):
        line = line_of(event.start_mark.line + 1) if event.start_mark else None

        def fail(message: str, line: int | None = line) -> ConfigError:
            return ConfigError([Problem(shown, line, "", message)])

        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise fail(f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        elif isinstance(event, AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise fail(f"more than {MAX_ALIASES} aliases (*name); a config needs few")
        if isinstance(event, NodeEvent) and not isinstance(event, AliasEvent):
            tag = getattr(event, "tag", None)
            if tag is not None and str(tag) not in PLAIN_TAGS:
                raise fail(f"the tag {tag} is not allowed in a config")
        if isinstance(event, ScalarEvent) and event.style is None:
            found = _DATE.match(event.value)
            if found:
                try:
                    dt.date(*(int(g) for g in found.groups()))
                except ValueError as e:
                    raise fail(f"{event.value!r} is not a date that exists ({e})") from None


def _read_yaml(text: str, shown: str, line_of=lambda line: line) -> Any:
    """Parse YAML text into round-trip nodes; any problem is a ConfigError naming `shown`."""
    try:
        _scan(text, shown, line_of)
        return _yaml().load(io.StringIO(text))
    except DuplicateKeyError as e:
        line = line_of(e.problem_mark.line + 1) if e.problem_mark else None
        problem = e.problem or ""
        key = problem.split('"')[1 if '"' in problem else 0]
        raise ConfigError([Problem(shown, line, "", f"duplicate key: {key}")]) from None
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = line_of(mark.line + 1) if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        raise ConfigError(
            [Problem(shown, line, "", f"malformed YAML{col}: {e.problem or e.context}")]
        ) from None
    except (YAMLError, ValueError, TypeError, RecursionError) as e:
        # the constructor's own errors (a timestamp that does not exist, ...) carry no line
        raise ConfigError([Problem(shown, None, "", f"malformed YAML: {e}")]) from None


def _plain(
    node: Any, prefix: str, file: str, lines: LineMap, budget: list[int] | None = None
) -> Any:
    """Round-trip nodes to plain Python, recording the line of every key and item.

    Aliases are expanded here, so `budget` caps the nodes made: a few aliases nested can
    otherwise stand for billions of them.
    """
    budget = [MAX_NODES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigError(
            [Problem(file, None, "", f"expands to more than {MAX_NODES:,} values (aliases?)")]
        )
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            try:
                line = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):
                line = None
            lines[path] = (file, line)
            out[str(key) if not isinstance(key, str) else key] = _plain(
                value, path, file, lines, budget
            )
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            path = f"{prefix}[{i}]"
            try:
                line = node.lc.item(i)[0] + 1
            except (KeyError, TypeError, AttributeError, IndexError):
                line = None
            lines[path] = (file, line)
            out_list.append(_plain(value, path, file, lines, budget))
        return out_list
    if type(node).__name__ == "ScalarBoolean":
        return bool(node)
    if hasattr(node, "real") and type(node).__module__.startswith("ruamel"):
        return float(node) if "Float" in type(node).__name__ else int(node)
    if isinstance(node, str):
        return str(node)
    return node


def _missing_file(
    path: Path, shown: str, field: str, origin: tuple[str | None, int | None]
) -> ConfigError:
    hint = ""
    if path.parent.is_dir():
        close = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()], n=1)
        if close:
            hint = f"; did you mean '{close[0]}'?"
    what = "is a directory, not a file" if path.is_dir() else "not found"
    return ConfigError([Problem(origin[0], origin[1], field, f"file {shown!r} {what}{hint}")])


def load_yaml(
    path: Path, shown: str | None = None, field: str = "", origin=(None, None)
) -> tuple[dict, LineMap]:
    """Read one YAML file into a plain dict and its line map (ConfigError on any problem)."""
    shown = shown or str(path)
    if not path.is_file():
        raise _missing_file(path, shown, field, origin)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            [Problem(shown, None, "", f"not UTF-8 text ({e.reason} at byte {e.start})")]
        ) from None
    except OSError as e:
        raise ConfigError([Problem(shown, None, "", f"cannot read: {e.strerror}")]) from None
    parsed = _PARSED.get((text, shown))
    if parsed is None:
        node = _read_yaml(text, shown)
        if node is None:
            node = CommentedMap()
        if not isinstance(node, CommentedMap):
            raise ConfigError(
                [
                    Problem(
                        shown,
                        1,
                        "",
                        f"the top level must be a mapping of fields, got {type(node).__name__}",
                    )
                ]
            )
        lines: LineMap = {}
        parsed = _plain(node, "", shown, lines), lines
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[(text, shown)] = parsed
    plain, lines = parsed
    return _copy(plain), dict(lines)


#: Files parsed in this process, by their text and shown name: every scenario extends
#: configs/denmark/base.yaml, whose round-trip parse (with the safety scan) takes ~0.2 s, and a
#: command loads it once per scenario (decompose, calibration, experiments: many times).
#: Only what parsed cleanly is kept; a changed file has another text, so it is parsed anew.
_PARSED: dict[tuple[str, str], tuple[dict, LineMap]] = {}
_PARSED_MAX = 32


def _copy(node: Any) -> Any:
    """A copy of a plain config tree that shares no dict or list with it."""
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _load_tree(
    path: Path, shown: str, chain: tuple[Path, ...], files: list[Path], origin=(None, None)
) -> tuple[dict, LineMap]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ConfigError([Problem(shown, origin[1], "extends", f"extends cycle: {cycle}")])
    data, lines = load_yaml(path, shown, "extends" if chain else "", origin)
    files.append(path)
    parents = data.pop("extends", None)
    if parents is None:
        return data, lines
    ext_line = lines.get("extends", (shown, None))
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ConfigError(
            [Problem(shown, ext_line[1], "extends", "expected a file name or a list of file names")]
        )
    merged: dict = {}
    merged_lines: LineMap = {}
    for parent in parents:
        ppath = path.parent / parent
        pdata, plines = _load_tree(
            ppath, str(Path(shown).parent / parent), (*chain, resolved), files, ext_line
        )
        merged = _deep_merge(merged, pdata)
        merged_lines.update(plines)
    lines.pop("extends", None)
    merged_lines.update(lines)
    return _deep_merge(merged, data), merged_lines


# ------------------------------------------------------------------------ overrides
def _parse_value(text: str, o: Override) -> Any:
    node = _read_yaml(f"v: {text}", o.file, line_of=lambda _line: o.line)
    if not isinstance(node, CommentedMap) or "v" not in node:
        raise ConfigError([Problem(o.file, o.line, o.text, f"cannot parse the value {text!r}")])
    return _plain(node, "", o.file, {})["v"]


def apply_override(data: dict, override: str | Override, lines: LineMap) -> dict:
    """Apply `a.b.c=value`; a `{value: ...}` parameter object gets its value replaced.

    Everything the override replaces is then located where the override was written.
    """
    o = override if isinstance(override, Override) else Override(override)
    if "=" not in o.text:
        raise ConfigError(
            [
                Problem(
                    o.file,
                    o.line,
                    o.text,
                    "expected FIELD=VALUE, e.g. settings.sop.beds_per_1000=4",
                )
            ]
        )
    path, text = o.text.split("=", 1)
    path = path.strip()
    keys = path.split(".")
    if not path or any(not k for k in keys):
        raise ConfigError([Problem(o.file, o.line, o.text, "empty field name")])
    try:
        value = _parse_value(text.strip(), o)
    except ConfigError as e:
        detail = e.problems[0].message
        raise ConfigError(
            [Problem(o.file, o.line, o.text, f"cannot parse the value {text.strip()!r}: {detail}")]
        ) from None
    node = data
    for i, key in enumerate(keys[:-1]):
        nxt = node.get(key)
        if not isinstance(nxt, dict):
            nxt = {}
            node[key] = nxt
            lines[".".join(keys[: i + 1])] = (o.file, o.line)  # the override made it a mapping
        node = nxt
    last = keys[-1]
    target = node.get(last)
    if isinstance(target, dict) and "value" in target and not isinstance(value, dict):
        target["value"] = value
        path += ".value"
    else:
        node[last] = value
    for key in [k for k in lines if k.startswith((f"{path}.", f"{path}["))]:
        lines[key] = (o.file, o.line)
    lines[path] = (o.file, o.line)
    lines[path.removesuffix(".value")] = (o.file, o.line)
    return data


# ----------------------------------------------------------------------- validation
def _unwrap(annotation: Any) -> list[type[BaseModel]]:
    """Model classes inside an annotation (Optional, list, dict values, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, set, typing.Annotated):
        return [m for a in args for m in _unwrap(a)]
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return []


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Allowed field names of the model reached by `loc` (for 'did you mean')."""
    models = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for m in models:
            field = m.model_fields.get(str(part))
            if field is not None:
                nxt.extend(_unwrap(field.annotation))
        if nxt:
            models = nxt
        else:
            # a dict key (e.g. a group name) keeps the same value models
            continue
    return sorted({name for m in models for name in m.model_fields})


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_for(path: str, lines: LineMap, fallback: str) -> tuple[str, int | None]:
    probe = path
    while probe:
        if probe in lines:
            return lines[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return (fallback, None)


def _problems(
    err: ValidationError, model: type[BaseModel], lines: LineMap, fallback: str
) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = tuple(
            p
            for p in e["loc"]
            if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
        ) or tuple(e["loc"])  # a user's key may itself contain "[" (fuzzing found one)
        path = _dotted(loc)
        file, line = _line_for(path, lines, fallback)
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            allowed = _fields_at(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            msg = "unknown field" + (
                f"; did you mean '{close[0]}'?"
                if close
                else f"; expected one of: {', '.join(allowed)}"
            )
        elif e["type"] == "missing":
            msg = "required field is missing"
        elif (
            "input" in e
            and e["type"] not in ("model_type", "dict_type")
            and len(repr(e["input"])) <= 40
        ):
            msg += f" (got {e['input']!r})"
        out.append(Problem(file, line, path, msg))
    return out


def load_config(
    paths: Sequence[Path | str], model: type[M], overrides: Sequence[str | Override] = ()
) -> LoadedConfig[M]:
    """Load, merge (left to right), override and validate; ConfigError lists every problem."""
    if not paths:
        raise ConfigError([Problem(None, None, "", "no config file given")])
    files: list[Path] = []
    data: dict = {}
    lines: LineMap = {}
    for p in paths:
        d, ln = _load_tree(Path(p), str(p), (), files)
        data = _deep_merge(data, d)
        lines.update(ln)
    for o in overrides:
        data = apply_override(data, o, lines)
    try:
        config = model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_problems(e, model, lines, str(paths[-1]))) from None
    return LoadedConfig(config, config.model_dump(mode="json"), files, lines)
