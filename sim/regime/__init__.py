"""Layer 4 — the regimes' policy: which levers act when, what they set, and who pays."""
