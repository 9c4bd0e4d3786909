"""The SimPy reference model (readable oracle for the numba core)."""
