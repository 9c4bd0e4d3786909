"""Patient flow: the compiled event kernel, its inputs and its driver."""
