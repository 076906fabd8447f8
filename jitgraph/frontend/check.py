"""The unsupported-syntax pre-pass: every construct jitgraph cannot translate, found in one walk
so that a function with several of them reports them all at once.

Semantic limits (a loop bound known only at run time, an unknown NumPy function) are found
later, by the translator; this pass looks at syntax only.
"""

from __future__ import annotations

import ast

from .errors import Problem
from .source import FunctionSource, problem_at

_LOOP_HINT = "use `for i in range(n)` with a bound known at compile time (loops are unrolled)"

# node type -> (what is unsupported, what to write instead)
UNSUPPORTED: dict[type, tuple[str, str]] = {
    ast.Try: ("try/except is not supported",
              "check inputs before calling the compiled function"),
    ast.With: ("'with' statements are not supported", "move the context manager to the caller"),
    ast.Lambda: ("lambda is not supported", "define a helper function with def"),
    ast.ClassDef: ("class definitions are not supported in compiled functions",
                   "define classes outside and pass arrays in"),
    ast.AsyncFunctionDef: ("async functions are not supported", "use a plain def"),
    ast.Await: ("await is not supported", "use plain function calls"),
    ast.AsyncFor: ("async for is not supported", _LOOP_HINT),
    ast.AsyncWith: ("async with is not supported", "move it to the caller"),
    ast.Yield: ("generators (yield) are not supported", "return a tuple of arrays instead"),
    ast.YieldFrom: ("generators (yield from) are not supported", "return arrays instead"),
    ast.Global: ("'global' is not supported", "return the new value instead of assigning a global"),
    ast.Nonlocal: ("'nonlocal' is not supported", "return the new value instead"),
    ast.Delete: ("'del' is not supported", "just stop using the name"),
    ast.ListComp: ("list comprehensions are not supported yet",
                   "use a vectorized NumPy expression, or a for loop over range()"),
    ast.SetComp: ("set comprehensions are not supported", "use arrays"),
    ast.DictComp: ("dict comprehensions are not supported", "use arrays"),
    ast.GeneratorExp: ("generator expressions are not supported yet",
                       "use a vectorized NumPy expression such as np.sum(...)"),
    ast.Dict: ("dict literals are not supported", "use separate variables or a tuple"),
    ast.Set: ("set literals are not supported", "use a tuple"),
    ast.JoinedStr: ("f-strings are not supported in compiled code",
                    "compiled functions compute arrays; format messages outside"),
    ast.Starred: ("star-unpacking (*x) is not supported", "index the elements explicitly"),
    ast.NamedExpr: ("assignment expressions (:=) are not supported", "assign on its own line"),
    ast.Import: ("import statements inside a compiled function are not supported",
                 "import at module level"),
    ast.ImportFrom: ("import statements inside a compiled function are not supported",
                     "import at module level"),
}
if hasattr(ast, "Match"):
    UNSUPPORTED[ast.Match] = ("match statements are not supported", "use if/elif")
if hasattr(ast, "TryStar"):
    UNSUPPORTED[ast.TryStar] = UNSUPPORTED[ast.Try]


class _Checker(ast.NodeVisitor):
    def __init__(self, source: FunctionSource):
        self.source = source
        self.problems: list[Problem] = []

    def report(self, node: ast.AST, message: str, hint: str) -> None:
        self.problems.append(problem_at(self.source, node, message, hint))

    def generic_visit(self, node: ast.AST) -> None:
        entry = UNSUPPORTED.get(type(node))
        if entry is not None:
            self.report(node, *entry)
            if isinstance(node, (ast.Lambda, ast.ClassDef)):
                return  # their insides are not translated at all
        super().generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        """Not walked: a raise is only translated if reached at compile time, and its message
        (often an f-string) is never evaluated."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        check_arguments(node, self.report)
        for decorator in node.decorator_list:
            self.report(decorator, "decorators on nested functions are not supported",
                        "define the helper without a decorator")
        for statement in node.body:
            self.visit(statement)

    def visit_For(self, node: ast.For) -> None:
        if node.orelse:
            self.report(node, "for ... else is not supported", "use a flag variable")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, complex):
            self.report(node, "complex numbers are not supported", "use real arrays")

    def _check_target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Attribute):
            self.report(target, "assigning to an attribute is not supported",
                        "assign to a variable or into an array with x[...] = value")


def check_arguments(node: ast.FunctionDef, report) -> None:
    """*args and **kwargs cannot be specialized: report them."""
    for arg, what in ((node.args.vararg, "*args"), (node.args.kwarg, "**kwargs")):
        if arg is not None:
            report(arg, f"{what} parameters are not supported", "name every parameter")


def check_function(source: FunctionSource) -> list[Problem]:
    """Every unsupported construct in the body (and signature) of `source`."""
    checker = _Checker(source)
    checker.visit_FunctionDef(source.tree)
    return checker.problems
