"""Organisations on the planning clock: Mesa agents, decision rules, the coupled model."""
