"""One exception hierarchy for everything jitgraph reports to users.

Errors about a call's arguments subclass the built-in TypeError / ValueError as well, so code that
already catches those keeps working.
"""

from __future__ import annotations


class JitGraphError(Exception):
    """Base class of every error jitgraph raises on purpose."""


class FrontendError(JitGraphError):
    """Source code jitgraph cannot translate (unsupported construct, unknown name, ...)."""


class GraphTypeError(JitGraphError, TypeError):
    """An operation applied to operands of dtypes it does not accept."""


class GraphShapeError(JitGraphError, ValueError):
    """Shapes that do not broadcast, bad axes, reshape to an incompatible size, ..."""


class ArgumentError(JitGraphError, TypeError):
    """A call with missing, unknown or wrongly typed arguments."""


class ArgumentShapeError(JitGraphError, ValueError):
    """A call whose argument shapes violate what the graph requires."""


class SerializationError(JitGraphError, ValueError):
    """A saved graph that is malformed, from an unknown version, or hostile."""


class CodegenError(JitGraphError):
    """A graph the code generator cannot lower (a bug or a missing feature: the message says
    which)."""


class GraphIndexError(JitGraphError, IndexError):
    """An index out of range for the axis it indexes, or too many indices."""


class ArgumentIndexError(JitGraphError, IndexError):
    """A call whose argument sizes make a constant index out of range."""


class RuntimeIndexError(JitGraphError, IndexError):
    """An index known only at run time (a loop counter, a scalar argument) out of range. Raised
    from compiled code with (site, index, size); `site` is the user's expression and location."""

    def __str__(self) -> str:
        if len(self.args) == 4:  # a window x[i:i+k] (ir/control.py checked_window)
            site, index, size, length = self.args
            return (f"slice of {length} elements starting at index {index} is out of bounds "
                    f"for axis with size {size} ({site}; jitgraph needs all {length} elements, "
                    f"where NumPy would return a shorter slice)")
        if len(self.args) != 3:
            return super().__str__()
        site, index, size = self.args
        return f"index {index} is out of bounds for axis with size {size} ({site})"
