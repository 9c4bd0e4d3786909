"""Layer 7 — running things: scenarios, replications, executors, batches, replay, trace."""
