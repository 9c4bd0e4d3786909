"""Layer 9 — studies built on runs: calibration, lever decomposition, sensitivity."""
