"""Layer 6 — from counters to tables: KPI rows, summaries with CIs, batch analysis, manifest."""
