"""Layer 8 — what a reader sees: figures, the HTML/Markdown report, STRESS-DES."""
