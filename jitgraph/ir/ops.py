"""The op table: every operation the IR knows, its kind, arity and NumPy meaning.

Ops that NumPy composes from simpler ones (mean, var, std, clip, square, outer, stack, zeros, ...)
are not IR ops: the builders lower them (see build.py), so passes and codegen see a small core.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class Kind(enum.Enum):
    SOURCE = "source"  # no inputs: arguments, constants, sizes, index grids
    ELEMWISE = "elemwise"  # one output element from the same-index elements of broadcast inputs
    REDUCE = "reduce"  # combines elements along axes
    VIEW = "view"  # reads its input at remapped indices: no arithmetic
    MATMUL = "matmul"
    RESHAPE = "reshape"  # needs C-order element numbering: materializes its input
    CONCAT = "concat"
    UPDATE = "update"  # a copy of an array with one region replaced (a[key] = v)
    CONTROL = "control"  # loops and branches: nested graphs run by generated control flow


class Op(enum.Enum):
    # sources
    VAR = "var"
    CONST = "const"
    SIZE = "size"  # a runtime dimension as an int64 scalar (weak), e.g. the n of mean
    INDEX = "index"  # the index along one axis of an iteration space (arange, eye, ...)
    # elementwise unary
    NEG = "negative"
    ABS = "absolute"
    NOT = "logical_not"
    EXP = "exp"
    EXPM1 = "expm1"
    LOG = "log"
    LOG1P = "log1p"
    LOG2 = "log2"
    LOG10 = "log10"
    SQRT = "sqrt"
    SIN = "sin"
    COS = "cos"
    TAN = "tan"
    ARCSIN = "arcsin"
    ARCCOS = "arccos"
    ARCTAN = "arctan"
    SINH = "sinh"
    COSH = "cosh"
    TANH = "tanh"
    FLOOR = "floor"
    CEIL = "ceil"
    SIGN = "sign"
    ISNAN = "isnan"
    ISINF = "isinf"
    ISFINITE = "isfinite"
    CAST = "astype"
    # elementwise binary
    ADD = "add"
    SUB = "subtract"
    MUL = "multiply"
    DIV = "true_divide"
    FLOORDIV = "floor_divide"
    MOD = "remainder"
    POW = "power"
    MAXIMUM = "maximum"
    MINIMUM = "minimum"
    ARCTAN2 = "arctan2"
    EQ = "equal"
    NE = "not_equal"
    LT = "less"
    LE = "less_equal"
    GT = "greater"
    GE = "greater_equal"
    AND = "logical_and"
    OR = "logical_or"
    XOR = "logical_xor"
    # elementwise ternary
    WHERE = "where"
    # reductions
    SUM = "sum"
    PROD = "prod"
    MAX = "max"
    MIN = "min"
    ARGMAX = "argmax"
    ARGMIN = "argmin"
    ANY = "any"
    ALL = "all"
    # structure
    MATMUL = "matmul"
    TRANSPOSE = "transpose"
    GETITEM = "getitem"  # basic indexing: slices, integers, newaxis
    BROADCAST = "broadcast_to"
    RESHAPE = "reshape"
    CONCAT = "concatenate"
    SETITEM = "setitem"  # base with base[key] = value: functional form of slice assignment
    # runtime indices (ir/control.py)
    WRAP = "wrap_index"  # a runtime integer index made non-negative, checked against its axis
    AT = "at"  # base indexed at some axes by runtime (wrapped) integer scalars
    PUT = "put"  # base with base[i, j, ...] = value at runtime (wrapped) integer indices
    # control flow (ir/control.py): nested graphs the kernel runs in a loop or a branch
    LOOP = "loop"
    BRANCH = "branch"
    RESULT = "result"  # one value a loop or branch produces

    def __repr__(self) -> str:
        return self.value


@dataclass(frozen=True)
class OpInfo:
    kind: Kind
    arity: int | None  # None: variadic
    numpy: Callable | None = None  # the NumPy function with the same meaning (the oracle)
    symbol_name: str | None = None  # name stem in the Symbol API (`_plus` -> `_plus0_output`)


def _elementwise(arity: int, fn: Callable, symbol_name: str | None = None) -> OpInfo:
    return OpInfo(Kind.ELEMWISE, arity, fn, symbol_name)


UNARY = {
    Op.NEG: np.negative,
    Op.ABS: np.absolute,
    Op.NOT: np.logical_not,
    Op.EXP: np.exp,
    Op.EXPM1: np.expm1,
    Op.LOG: np.log,
    Op.LOG1P: np.log1p,
    Op.LOG2: np.log2,
    Op.LOG10: np.log10,
    Op.SQRT: np.sqrt,
    Op.SIN: np.sin,
    Op.COS: np.cos,
    Op.TAN: np.tan,
    Op.ARCSIN: np.arcsin,
    Op.ARCCOS: np.arccos,
    Op.ARCTAN: np.arctan,
    Op.SINH: np.sinh,
    Op.COSH: np.cosh,
    Op.TANH: np.tanh,
    Op.FLOOR: np.floor,
    Op.CEIL: np.ceil,
    Op.SIGN: np.sign,
    Op.ISNAN: np.isnan,
    Op.ISINF: np.isinf,
    Op.ISFINITE: np.isfinite,
}
BINARY = {
    Op.ADD: np.add,
    Op.SUB: np.subtract,
    Op.MUL: np.multiply,
    Op.DIV: np.true_divide,
    Op.FLOORDIV: np.floor_divide,
    Op.MOD: np.remainder,
    Op.POW: np.power,
    Op.MAXIMUM: np.maximum,
    Op.MINIMUM: np.minimum,
    Op.ARCTAN2: np.arctan2,
    Op.EQ: np.equal,
    Op.NE: np.not_equal,
    Op.LT: np.less,
    Op.LE: np.less_equal,
    Op.GT: np.greater,
    Op.GE: np.greater_equal,
    Op.AND: np.logical_and,
    Op.OR: np.logical_or,
    Op.XOR: np.logical_xor,
}
REDUCTIONS = {
    Op.SUM: np.sum,
    Op.PROD: np.prod,
    Op.MAX: np.max,
    Op.MIN: np.min,
    Op.ARGMAX: np.argmax,
    Op.ARGMIN: np.argmin,
    Op.ANY: np.any,
    Op.ALL: np.all,
}
# MXNet's spellings for the operators users write with Python syntax.
_SYMBOL_NAMES = {
    Op.ADD: "_plus",
    Op.SUB: "_minus",
    Op.MUL: "_mul",
    Op.DIV: "_div",
    Op.FLOORDIV: "_floordiv",
    Op.MOD: "_mod",
    Op.POW: "_power",
    Op.NEG: "negative",
    Op.EQ: "_equal",
    Op.NE: "_not_equal",
    Op.LT: "_lesser",
    Op.LE: "_lesser_equal",
    Op.GT: "_greater",
    Op.GE: "_greater_equal",
}

OPS: dict[Op, OpInfo] = {
    Op.VAR: OpInfo(Kind.SOURCE, 0),
    Op.CONST: OpInfo(Kind.SOURCE, 0),
    Op.SIZE: OpInfo(Kind.SOURCE, 0),
    Op.INDEX: OpInfo(Kind.SOURCE, 0),
    Op.CAST: _elementwise(1, None, "astype"),
    Op.WHERE: _elementwise(3, np.where, "where"),
    Op.MATMUL: OpInfo(Kind.MATMUL, 2, np.matmul, "matmul"),
    Op.TRANSPOSE: OpInfo(Kind.VIEW, 1, np.transpose, "transpose"),
    Op.GETITEM: OpInfo(Kind.VIEW, 1, None, "slice"),
    Op.BROADCAST: OpInfo(Kind.VIEW, 1, np.broadcast_to, "broadcast_to"),
    Op.RESHAPE: OpInfo(Kind.RESHAPE, 1, np.reshape, "reshape"),
    Op.CONCAT: OpInfo(Kind.CONCAT, None, np.concatenate, "concat"),
    Op.SETITEM: OpInfo(Kind.UPDATE, 2, None, "setitem"),
    Op.WRAP: OpInfo(Kind.ELEMWISE, 2),
    Op.AT: OpInfo(Kind.VIEW, None),
    Op.PUT: OpInfo(Kind.UPDATE, None),
    Op.LOOP: OpInfo(Kind.CONTROL, None),
    Op.BRANCH: OpInfo(Kind.CONTROL, None),
    Op.RESULT: OpInfo(Kind.SOURCE, 1),
}
OPS.update({op: _elementwise(1, fn, _SYMBOL_NAMES.get(op, op.value)) for op, fn in UNARY.items()})
OPS.update({op: _elementwise(2, fn, _SYMBOL_NAMES.get(op, op.value)) for op, fn in BINARY.items()})
OPS.update({op: OpInfo(Kind.REDUCE, 1, fn, op.value) for op, fn in REDUCTIONS.items()})

# Python operator spellings, for error messages and the printer.
OPERATOR_SYMBOLS = {
    Op.ADD: "+",
    Op.SUB: "-",
    Op.MUL: "*",
    Op.DIV: "/",
    Op.FLOORDIV: "//",
    Op.MOD: "%",
    Op.POW: "**",
    Op.EQ: "==",
    Op.NE: "!=",
    Op.LT: "<",
    Op.LE: "<=",
    Op.GT: ">",
    Op.GE: ">=",
}


def kind(op: Op) -> Kind:
    return OPS[op].kind
