"""Layer 10 — the validation report: queueing theory, numba vs SimPy, targets."""
