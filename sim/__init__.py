"""sektorsim: patient flow across Danish health-care sectors, today vs the 2024 reform."""

__version__ = "0.1.0"
