"""jitgraph: NumPy-style code compiled to optimized dataflow graphs and run as parallel Numba
loop nests.

Symbolic style::

    import jitgraph as jg
    A = jg.Variable('A'); B = jg.Variable('B')
    f = jg.compile(B * A + 1)
    f(A=np.ones(10), B=np.ones(10) * 2)
"""

from . import _threads, sym, testing  # noqa: F401  (first: thread pool defaults; jg.sym, jg.testing)
from .errors import (
    ArgumentError,
    ArgumentIndexError,
    ArgumentShapeError,
    CodegenError,
    FrontendError,
    GraphIndexError,
    GraphShapeError,
    GraphTypeError,
    JitGraphError,
    SerializationError,
)
from .frontend import jit
from .frontend.grad import grad, value_and_grad
from .serialize import fromjson, load
from .symbol import (
    CompiledFunction,
    Constant,
    Context,
    Executor,
    Group,
    Symbol,
    Variable,
    compile,
    cpu,
    gpu,
)

__version__ = "0.1.0"

__all__ = [
    "sym",
    "jit",
    "grad",
    "value_and_grad",
    "Variable",
    "Constant",
    "Group",
    "Symbol",
    "compile",
    "cpu",
    "gpu",
    "Context",
    "Executor",
    "CompiledFunction",
    "load",
    "fromjson",
    "JitGraphError",
    "FrontendError",
    "GraphTypeError",
    "GraphShapeError",
    "GraphIndexError",
    "ArgumentError",
    "ArgumentShapeError",
    "ArgumentIndexError",
    "SerializationError",
    "CodegenError",
    "__version__",
]
