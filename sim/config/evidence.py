"""`sektorsim params CONFIG`: every parameter with its value, range and evidence."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from sim.config.schema import Evidence


def walk(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Evidence]]:
    """Every parameter object (value + evidence) in a config, with its dotted path."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, Evidence):
            yield path, value
        elif isinstance(value, BaseModel):
            yield from walk(value, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, Evidence):
                    yield f"{path}.{key}", item
                elif isinstance(item, BaseModel):
                    yield from walk(item, f"{path}.{key}")


def describe_value(p: Evidence) -> str:
    value = getattr(p, "value", None)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v:g}" for k, v in value.items())
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def in_range(p: Evidence) -> bool:
    """A scalar must lie inside its own range (for a table, the range is a multiplier)."""
    value = getattr(p, "value", None)
    if not p.range or not isinstance(value, (int, float)):
        return True
    return p.range[0] <= value <= p.range[1]


def rows(model: BaseModel) -> list[dict]:
    out = []
    for path, p in walk(model):
        inside = in_range(p)
        evidence = "source" if p.source else ("assumption" if p.assumption else "MISSING")
        out.append(
            {
                "parameter": path,
                "value": describe_value(p),
                "range": f"{p.range[0]:g} – {p.range[1]:g}" if p.range else "",
                "evidence": evidence
                if inside
                else f"{evidence}, but the value is outside its range",
                "text": p.source or p.assumption or "",
                "documented": p.documented and inside,
            }
        )
    return out
