"""Errors of `jg.jit`: unsupported constructs reported at the user's file:line:col with the
source line and a caret, all at once; bad calls raising TypeError / ValueError subclasses that
name the argument."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import jitgraph as jg

X = np.arange(6.0)


def location_of(fn, snippet: str, occurrence: int = 0) -> tuple[int, int]:
    """(line, 1-based column) of `snippet` in fn's source file."""
    lines, first = inspect.getsourcelines(fn)
    found = [
        (first + i, line.index(snippet) + 1) for i, line in enumerate(lines) if snippet in line
    ]
    return found[occurrence]


def compile_error(fn, *args) -> str:
    with pytest.raises(jg.FrontendError) as info:
        jg.jit(fn, backend="python")(*args)
    return str(info.value)


def assert_reported(text: str, fn, snippet: str, message: str, caret: int | None = None) -> None:
    line, col = location_of(fn, snippet)
    assert f"{__file__}:{line}:{col}: {message}" in text, text
    carets = "^" * (caret or len(snippet))
    assert "    " + " " * (col - 1) + carets in text.splitlines(), text
    assert "jitgraph/frontend" not in text and "jitgraph/ir" not in text


def uses_try(x):
    try:
        y = x + 1
    except ValueError:
        y = x
    return y


def uses_with(x):
    with np.errstate(all="ignore"):
        y = x / 0
    return y


def uses_lambda(x):
    f = lambda v: v + 1  # noqa: E731
    return f(x)


def uses_early_exit(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] > 2:
            break
        total += x[i]
    return total


def uses_comprehension(x):
    parts = [x * k for k in range(3)]
    return parts[0]


def uses_dict(x):
    table = {"a": x}
    return table["a"]


def uses_global(x):
    global X
    return x


def uses_fstring(x):
    name = f"value {x}"  # noqa: F841
    return x


def uses_star(x):
    first, *rest = x.shape
    return x


def uses_growing_loop(x):
    for _ in range(x.shape[0]):
        x = np.concatenate([x, x[:1]])
    return x


def uses_cumsum(x):
    return np.cumsum(x)


def uses_runtime_return(x, t):
    if t > 0:
        return x
    return -x


def uses_fancy_index(x):
    return x[x > 0]


def _recursive(x, n):
    return x if n == 0 else _recursive(x, n - 1)


def uses_recursion(x):
    return _recursive(x, 3)


def uses_unknown_name(x):
    return x + undefined_thing  # noqa: F821


def uses_printing(x):
    print(x)
    return x


def uses_attribute_store(x):
    x.shape = (2, 3)
    return x


CASES = [
    (uses_try, "try:", "try/except is not supported", 4),
    (uses_with, 'with np.errstate(all="ignore"):', "'with' statements are not supported", None),
    (uses_lambda, "lambda v: v + 1", "lambda is not supported", None),
    (
        uses_early_exit,
        "break",
        "break inside a loop with a runtime trip count is not supported yet",
        None,
    ),
    (
        uses_comprehension,
        "[x * k for k in range(3)]",
        "list comprehensions are not supported yet",
        None,
    ),
    (uses_dict, '{"a": x}', "dict literals are not supported", None),
    (uses_global, "global X", "'global' is not supported", None),
    (uses_fstring, 'f"value {x}"', "f-strings are not supported", None),
    (uses_star, "*rest", "star-unpacking (*x) is not supported", None),
    (
        uses_growing_loop,
        "for _ in range(x.shape[0]):",
        "array 'x' changes shape inside a loop with a runtime trip count",
        None,
    ),
    (uses_cumsum, "np.cumsum(x)", "np.cumsum is not supported yet", None),
    (
        uses_fancy_index,
        "x[x > 0]",
        "advanced indexing (with arrays or lists) is not supported yet",
        None,
    ),
    (
        uses_recursion,
        "_recursive(x, n - 1)",
        "recursive call of '_recursive' cannot be inlined",
        None,
    ),
    (uses_unknown_name, "undefined_thing", "name 'undefined_thing' is not defined", None),
    (uses_printing, "print(x)", "print() is not supported", None),
    (uses_attribute_store, "x.shape", "assigning to an attribute is not supported", None),
]


@pytest.mark.parametrize(
    "fn, snippet, message, caret", CASES, ids=lambda v: getattr(v, "__name__", "")
)
def test_unsupported_construct_is_located(fn, snippet, message, caret):
    if fn is uses_recursion:
        text = compile_error(fn, X)
        assert_reported(text, _recursive, snippet, message)
        return
    assert_reported(compile_error(fn, X), fn, snippet, message, caret)


def test_runtime_return_is_located():
    text = compile_error(uses_runtime_return, X, 1.0)
    assert_reported(
        text,
        uses_runtime_return,
        "return x",
        "return inside an `if` decided at run time is not supported yet",
    )


def test_messages_suggest_what_to_write():
    assert "hint: use a while loop whose condition says when to stop" in compile_error(
        uses_early_exit, X
    )
    assert "hint: define a helper function with def" in compile_error(uses_lambda, X)


def several_problems(x):
    try:
        t = x + 1
    except ValueError:
        t = x  # noqa: F841
    w = x
    for _ in range(w.shape[0]):
        w = np.concatenate([w, w[:1]])
    f = lambda v: v  # noqa: E731
    y = np.cumsum(w)
    z = x[x > 0]
    return f(y) + z


def test_all_problems_are_reported_at_once():
    text = compile_error(several_problems, X)
    assert "(5 problems)" in text
    for snippet, message in (
        ("try:", "try/except"),
        ("for _ in range(w.shape[0]):", "changes shape inside a loop"),
        ("lambda v: v", "lambda"),
        ("np.cumsum(w)", "np.cumsum"),
        ("x[x > 0]", "advanced indexing"),
    ):
        line, col = location_of(several_problems, snippet)
        assert f":{line}:{col}: " in text and message in text, snippet


def test_error_has_no_chained_internal_exception():
    with pytest.raises(jg.FrontendError) as info:
        jg.jit(uses_cumsum, backend="python")(X)
    assert info.value.__cause__ is None
    assert len(info.value.problems) == 1


# ---------------------------------------------------------------------------------------------
# Errors NumPy would raise too, found at compile time


def raises_on_rank(x):
    if x.ndim != 2:
        raise ValueError("x must be a matrix")
    return x.sum(axis=1)


def test_raise_reached_at_compile_time_raises_the_users_exception():
    with pytest.raises(ValueError, match="x must be a matrix"):
        jg.jit(raises_on_rank, backend="python")(X)
    assert jg.jit(raises_on_rank, backend="python")(np.ones((2, 3))).tolist() == [3.0, 3.0]


def test_in_place_cast_follows_numpy():
    def f(x):
        x /= 2
        return x

    with pytest.raises(jg.ArgumentError, match="same_kind"):
        jg.jit(f, backend="reference")(np.arange(3))


# ---------------------------------------------------------------------------------------------
# Bad calls


def add(x, y):
    return x + y


def test_wrong_argument_count():
    f = jg.jit(add, backend="python")
    with pytest.raises(TypeError) as info:
        f(X)
    assert isinstance(info.value, jg.ArgumentError) and "'y'" in str(info.value)
    with pytest.raises(jg.ArgumentError, match="too many positional arguments"):
        f(X, X, X)


def test_unknown_keyword():
    with pytest.raises(jg.ArgumentError, match="unexpected keyword argument 'z'"):
        jg.jit(add, backend="python")(X, y=X, z=X)


def test_incompatible_shapes_name_the_arguments():
    f = jg.jit(add, backend="python")
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    message = str(info.value)
    assert isinstance(info.value, jg.ArgumentShapeError)
    assert "'x' has shape (3,)" in message and "'y' has shape (4,)" in message


def test_shape_error_found_at_compile_time_names_the_arguments():
    def f(x, y):
        return x @ y

    with pytest.raises(jg.ArgumentShapeError) as info:
        jg.jit(f, backend="python")(np.ones(3), np.float64(2.0))
    message = str(info.value)
    assert "x: float64 array of shape (3,)" in message and "y: float64 array of shape ()" in message
    line, col = location_of(f, "x @ y")
    assert f"{__file__}:{line}:{col}:" in message


def test_unsupported_dtype_names_the_argument():
    with pytest.raises(TypeError) as info:
        jg.jit(add, backend="python")(X, np.ones(2, np.complex128))
    assert isinstance(info.value, jg.ArgumentError)
    assert "'y'" in str(info.value) and "complex128" in str(info.value)


def test_unknown_static_argname_and_backend():
    with pytest.raises(jg.ArgumentError, match="nope"):
        jg.jit(add, static_argnames=("nope",))
    with pytest.raises(jg.ArgumentError, match="backend"):
        jg.jit(add, backend="gpu")
