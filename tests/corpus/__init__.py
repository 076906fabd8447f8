"""Plain NumPy functions as users write them, compiled unmodified by `jg.jit` in test_jit.py.

The modules hold only NumPy code; `cases.py` lists which inputs each function is called with.
"""
