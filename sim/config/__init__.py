"""Layer 1 — reading what the user wrote: YAML loader, schema, evidence, geography and
the shipped files."""
