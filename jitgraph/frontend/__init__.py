"""The frontend: NumPy functions, read with `ast`, translated into jitgraph's IR.

    source.py     reading and parsing a function's source; ast positions -> file:line:col
    errors.py     problems and their formatting (location, source line, caret, hint)
    check.py      the unsupported-syntax pre-pass
    values.py     the translator's value domain (array objects, scalars, sizes, static values)
    numpy_api.py  NumPy functions, methods and attributes -> IR builders
    builtins_api.py  Python builtins and math functions
    translate.py  the ast visitor
    specialize.py one specialization: arguments -> graph -> executable, writebacks, returns
    jit.py        the decorator, cache and dispatch
"""

from .jit import JitFunction, jit

__all__ = ["jit", "JitFunction"]
