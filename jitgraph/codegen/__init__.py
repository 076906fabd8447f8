"""Code generation: a partitioned graph becomes Python source for one Numba kernel plus a plain
Python entry function that validates arguments, computes sizes and allocates with NumPy."""
