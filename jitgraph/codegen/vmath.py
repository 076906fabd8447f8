"""Vectorizable math: exp, expm1, log, log1p, tanh, sigmoid, erf, pow, sin, cos in Numba.

Numba lowers `np.exp` & co. to scalar libm calls (pip's llvmlite has no SVML), and a call in a
loop body stops LLVM's loop vectorizer. These functions are straight-line arithmetic instead:
range reduction with integer bit casts (`@intrinsic`s: float <-> int bits for 2^n scaling and
exponent extraction, `llvm.rint` / `llvm.floor` / `llvm.fma`), polynomial or rational kernels,
and special cases (NaN, +-inf, +-0, overflow, underflow to denormals) folded in with selects
(`a if c else b` on values, which LLVM turns into `select`), so a loop over them vectorizes.

Each function has a float32 and a float64 variant (`vm_exp_f32`, `vm_exp_f64`, ...). They are
compiled with `fastmath={'contract'}` only: `reassoc` would undo the Cody-Waite reductions and
the compensated sums, `nnan`/`ninf` the special cases. They are ordinary (not `inline='always'`)
njit functions: Numba links them into the caller's LLVM module and LLVM inlines them, so each
instruction keeps its own fast-math flags even inside a kernel compiled with `reassoc`.

Accuracy: max error in ulp against the exact result (NumPy evaluated in long double for float64
and in float64 for float32; `sigmoid` in long double, `erf` against `math.erf`), over dense
sweeps of the interesting ranges plus random bit patterns of the whole range (denormals
included), ~1M inputs per function (`tests/test_vmath.py` asserts the bound column). Against
NumPy's own float results (themselves within ~0.5-1 ulp) add NumPy's error. Special values match
NumPy exactly: NaN in -> NaN out, +-inf, +-0 (expm1/log1p/tanh/erf/sin(-0.0) = -0.0), overflow
to inf, underflow to 0 and denormals, log(0) = -inf, log(<0) = nan, C99 pow special cases.

| function | float32 measured / bound | float64 measured / bound | method |
|----------|--------------------------|--------------------------|--------|
| exp      | 0.98 / 1.5 | 0.70 / 1.5 | Cody-Waite ln2 split; Cephes deg-6 / Taylor deg-13 |
| expm1    | 1.29 / 1.5 | 1.77 / 2   | same reduction; 2 (u 2^(k-1) + (2^(k-1) - 1/2))     |
| log      | 0.76 / 1   | 0.79 / 1   | fdlibm: m in [sqrt(1/2), sqrt(2)), s = f/(2+f)      |
| log1p    | 0.50 / 1   | 1.87 / 2   | f64: fdlibm log1p; f32: f64 log of the exact 1 + x  |
| tanh     | 1.44 / 1.5 | 2.34 / 2.5 | e / (e + 2), e = expm1(2|x|) (f32: quotient in f64) |
| sigmoid  | 1.44 / 1.5 | 2.12 / 2.5 | 1 / (1 + exp(-x)); exp(x) / (1 + exp(x)) for x < 0  |
| erf      | 0.50 / 1   | 1.00 / 1.5 | fdlibm's pieces, branch-free (f32: f64 rounded)     |
| pow      | 0.50 / 1   | 0.71 / 1.5 | exp(y log|x|) in double-double (f32: f64 rounded)   |
| sin, cos | 0.50 / 1   | libm       | Payne-Hanek with a 2/pi table, fdlibm kernels, f64  |

float64 sin/cos keep libm: a branch-free full-range (Payne-Hanek) reduction for 53-bit
significands needs a ~200-bit product that was not done in the time available.

Speed (benchmarks/vmath.py, 16M elements, prange loop, 2 cores): vmath is 2-15x faster than
the libm call in the same loop (exp f32 3x, tanh f32 13x, expm1 f32 15x); the float32 exp loop
vectorizes to `<8 x float>`.

The generated code uses these functions unless `jitgraph.runtime.MATH` (or the environment
variable `JITGRAPH_MATH`) is "libm"; see `jitgraph.codegen.scalar.math_function`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# No reassoc (it folds (x + C) - C and breaks hi/lo splits), no nnan/ninf (special cases).
# cache=True: the python backend and every process would otherwise recompile them (~20 s in all).
_JIT: dict[str, Any] = {"fastmath": {"contract"}, "error_model": "numpy", "cache": True}

f32 = np.float32
f64 = np.float64


# ---------------------------------------------------------------------------------------------
# Intrinsics: bit casts and the LLVM intrinsics that vectorize (rint, floor, fma)


@intrinsic
def _bits64(typingctx, x):
    """float64 -> its IEEE bits as int64."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(x), codegen


@intrinsic
def _from_bits64(typingctx, n):
    """int (any width) -> the float64 with those bits."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        value = context.cast(builder, args[0], n, types.int64)
        return builder.bitcast(value, ir.DoubleType())

    return types.float64(n), codegen


@intrinsic
def _bits32(typingctx, x):
    """float32 -> its IEEE bits as int32."""
    if x != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(x), codegen


@intrinsic
def _from_bits32(typingctx, n):
    """int (any width, truncated to 32 bits) -> the float32 with those bits."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        value = context.cast(builder, args[0], n, types.int32)
        return builder.bitcast(value, ir.FloatType())

    return types.float32(n), codegen


def _llvm_float_intrinsic(name: str, arity: int):
    """An @intrinsic calling llvm.<name> on float32/float64 (vectorizable, unlike libm)."""

    def typer(typingctx, *args):
        if len(args) != arity or args[0] not in (types.float32, types.float64):
            return None
        if any(a != args[0] for a in args):
            return None

        def codegen(context, builder, sig, llargs):
            lltype = context.get_value_type(sig.return_type)
            fnty = ir.FunctionType(lltype, [lltype] * arity)
            fn = builder.module.declare_intrinsic(f"llvm.{name}", [lltype], fnty)
            return builder.call(fn, llargs)

        return args[0](*args), codegen

    if arity == 1:
        return intrinsic(lambda typingctx, x: typer(typingctx, x))
    return intrinsic(lambda typingctx, a, b, c: typer(typingctx, a, b, c))


_rint = _llvm_float_intrinsic("rint", 1)  # round half to even, no libm call
_floor = _llvm_float_intrinsic("floor", 1)
_fma = _llvm_float_intrinsic("fma", 3)  # exact products for double-double arithmetic


@njit(**_JIT)
def _pow2_64(n):
    """2.0 ** n for integer n in [-1022, 1023] (exact, via the exponent field)."""
    return _from_bits64((n + 1023) << 52)


@njit(**_JIT)
def _pow2_32(n):
    """float32 2 ** n for integer n in [-126, 127]."""
    return _from_bits32((n + 127) << 23)


@njit(**_JIT)
def _two_sum(a, b):
    """a + b = s + e exactly (Knuth; branch-free)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


# ---------------------------------------------------------------------------------------------
# exp

# ln2 split so that k * LN2_HI is exact for |k| < 2^20 (LN2_HI has 32 significant bits; fdlibm).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
# |r| <= ln2/2: the degree-13 Taylor remainder r^14/14! is 4e-18, below half an ulp of 1.
_EXP_C = [1.0 / math.factorial(k) for k in range(14)]
(_E0, _E1, _E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13) = _EXP_C


@njit(**_JIT)
def _expm1_poly64(r):
    """exp(r) - 1 for |r| <= ln2/2 with relative accuracy (degree 13 Taylor)."""
    q = _E2 + r * (
        _E3
        + r
        * (
            _E4
            + r
            * (
                _E5
                + r
                * (
                    _E6
                    + r
                    * (
                        _E7
                        + r * (_E8 + r * (_E9 + r * (_E10 + r * (_E11 + r * (_E12 + r * _E13)))))
                    )
                )
            )
        )
    )
    return r + r * (r * q)


@njit(**_JIT)
def _exp_dd(hi, lo):
    """exp(hi + lo) for a double-double argument (lo tiny); handles NaN/inf/over/underflow."""
    # exp(x) is inf above 709.78 and 0 below -745.13: clamping keeps 2^k finite and exact.
    xc = -746.0 if hi < -746.0 else hi
    xc = 710.0 if xc > 710.0 else xc
    lo = lo if xc == hi else 0.0
    kf = _rint((xc if xc == xc else 0.0) * _INV_LN2)  # NaN would make the int conversion poison
    k = np.int64(kf)
    hi = xc - kf * _LN2_HI  # exact (Cody-Waite)
    r = (hi - kf * _LN2_LO) + lo
    r_lo = ((hi - r) - kf * _LN2_LO) + lo  # what rounding r lost
    # 1 + r + r^2 q with 1 + r split exactly (one + tail), so the only rounding that counts is
    # the final addition: ~0.5 ulp instead of ~1.
    q = _E2 + r * (
        _E3
        + r
        * (
            _E4
            + r
            * (
                _E5
                + r
                * (
                    _E6
                    + r
                    * (
                        _E7
                        + r * (_E8 + r * (_E9 + r * (_E10 + r * (_E11 + r * (_E12 + r * _E13)))))
                    )
                )
            )
        )
    )
    one = 1.0 + r
    tail = ((1.0 - one) + r) + (r_lo + r * (r * q))
    p = one + tail
    # 2^k in two exact factors: each stays normal for k in [-1076, 1024], so p * 2^k1 is exact
    # and the second product rounds once, to a denormal or to inf when the result is one.
    k1 = k >> 1
    return (p * _pow2_64(k1)) * _pow2_64(k - k1)


@njit(**_JIT)
def vm_exp_f64(x):
    """exp(x) for float64."""
    return _exp_dd(x, 0.0)


# float32: Cephes expf (degree 6 minimax for exp(r) - 1 - r, |r| <= ln2/2, error < 1 ulp).
_LN2_HI_32 = f32(0.693359375)  # 9 bits: k * _LN2_HI_32 is exact for |k| <= 150
_LN2_LO_32 = f32(-2.12194440e-4)
_INV_LN2_32 = f32(1.44269504088896341)
_P32 = [
    f32(c)
    for c in (
        1.9875691500e-4,
        1.3981999507e-3,
        8.3334519073e-3,
        4.1665795894e-2,
        1.6666665459e-1,
        5.0000001201e-1,
    )
]
(_P32_0, _P32_1, _P32_2, _P32_3, _P32_4, _P32_5) = _P32
_ONE32 = f32(1.0)
_ZERO32 = f32(0.0)


@njit(**_JIT)
def vm_exp_f32(x):
    """exp(x) for float32."""
    xc = f32(-104.0) if x < f32(-104.0) else x  # expf underflows below -103.97
    xc = f32(89.0) if xc > f32(89.0) else xc  # and overflows above 88.72
    kf = _rint((xc if xc == xc else _ZERO32) * _INV_LN2_32)
    k = np.int32(kf)
    r = (xc - kf * _LN2_HI_32) - kf * _LN2_LO_32
    q = _P32_5 + r * (_P32_4 + r * (_P32_3 + r * (_P32_2 + r * (_P32_1 + r * _P32_0))))
    p = _ONE32 + (r + (r * r) * q)
    k1 = k >> 1
    return (p * _pow2_32(k1)) * _pow2_32(k - k1)


# ---------------------------------------------------------------------------------------------
# expm1: expm1(x) = 2^k (1 + u) - 1 = 2 (u s + (s - 1/2)) with s = 2^(k-1), u = expm1(r).
# Written this way there is no cancellation for k = +-1 and s stays finite up to k = 1024.


@njit(**_JIT)
def vm_expm1_f64(x):
    """expm1(x) for float64."""
    xc = -40.0 if x < -40.0 else x  # expm1(x) rounds to -1 below -37.4
    xc = 710.0 if xc > 710.0 else xc
    kf = _rint((xc if xc == xc else 0.0) * _INV_LN2)
    k = np.int64(kf)
    r = (xc - kf * _LN2_HI) - kf * _LN2_LO
    u = _expm1_poly64(r)
    s = _pow2_64(k - 1)
    y = 2.0 * (u * s + (s - 0.5))
    # expm1(x) rounds to x below 2^-54; this also keeps -0.0 and denormals exact.
    return x if abs(x) < 5.551115123125783e-17 else y


# expm1 on |r| <= ln2/2 in float32: degree 8 Taylor (remainder r^9/9! relative 1e-9).
_EM32 = [f32(1.0 / math.factorial(k)) for k in range(2, 9)]
(_EM32_2, _EM32_3, _EM32_4, _EM32_5, _EM32_6, _EM32_7, _EM32_8) = _EM32


@njit(**_JIT)
def _expm1_poly32(r):
    q = _EM32_2 + r * (
        _EM32_3 + r * (_EM32_4 + r * (_EM32_5 + r * (_EM32_6 + r * (_EM32_7 + r * _EM32_8))))
    )
    return r + r * (r * q)


@njit(**_JIT)
def vm_expm1_f32(x):
    """expm1(x) for float32."""
    xc = f32(-20.0) if x < f32(-20.0) else x  # expm1f rounds to -1 below -17.3
    xc = f32(89.0) if xc > f32(89.0) else xc
    kf = _rint((xc if xc == xc else _ZERO32) * _INV_LN2_32)
    k = np.int32(kf)
    r = (xc - kf * _LN2_HI_32) - kf * _LN2_LO_32
    u = _expm1_poly32(r)
    s = _pow2_32(k - 1)
    y = f32(2.0) * (u * s + (s - f32(0.5)))
    return x if abs(x) < f32(2.9802322e-08) else y  # 2^-25


# ---------------------------------------------------------------------------------------------
# log and log1p (fdlibm): x = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f),
# log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)) with R a degree-7 minimax series (error 2^-58.45).

_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
(_LG1, _LG2, _LG3, _LG4, _LG5, _LG6, _LG7) = _LG
_SQRT_HALF_HI = 0x3FE6A09E  # high word of sqrt(1/2)
_TWO54 = 18014398509481984.0


@njit(**_JIT)
def _log_reduce64(x):
    """(k, f) with x = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)); x positive and normal."""
    bits = _bits64(x) + ((0x3FF00000 - _SQRT_HALF_HI) << 32)
    k = (bits >> 52) - 1023
    m = _from_bits64((bits & 0x000FFFFFFFFFFFFF) + (_SQRT_HALF_HI << 32))
    return k, m - 1.0


@njit(**_JIT)
def _log_kernel64(f):
    """(hfsq, s*(hfsq+R)) so that log(1 + f) = f - hfsq + s*(hfsq+R)."""
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    hfsq = 0.5 * f * f
    return hfsq, s * (hfsq + t1 + t2)


@njit(**_JIT)
def vm_log_f64(x):
    """log(x) for float64."""
    denormal = x < 2.2250738585072014e-308
    xs = x * _TWO54 if denormal else x  # scale denormals up to read their exponent
    k, f = _log_reduce64(xs)
    dk = np.float64(k) - (54.0 if denormal else 0.0)
    hfsq, tail = _log_kernel64(f)
    y = dk * _LN2_HI - ((hfsq - (tail + dk * _LN2_LO)) - f)
    y = y if x > 0.0 else (-np.inf if x == 0.0 else np.nan)  # NaN input: nan
    return x if x == np.inf else y


@njit(**_JIT)
def vm_log1p_f64(x):
    """log1p(x) for float64."""
    u = 1.0 + x
    k, f = _log_reduce64(u)
    # u = 1 + x rounded; c / u corrects log(u) to log(1 + x). Beyond 2^54 the correction is nil.
    c = (1.0 - (u - x)) if k > 0 else (x - (u - 1.0))
    c = c / u if k < 54 else 0.0
    dk = np.float64(k)
    hfsq, tail = _log_kernel64(f)
    y = dk * _LN2_HI - ((hfsq - (tail + (dk * _LN2_LO + c))) - f)
    y = y if x > -1.0 else (-np.inf if x == -1.0 else np.nan)
    y = x if x == np.inf else y
    return x if abs(x) < 5.551115123125783e-17 else y  # 2^-54: keeps -0.0 and denormals


# float32 (fdlibm logf): degree-4 series in s^2, ln2 split with 24 - 7 bits in the high part.
_LG32 = [
    f32(c) for c in (0xAAAAAA / 2.0**24, 0xCCCE13 / 2.0**25, 0x91E9EE / 2.0**25, 0xF89E26 / 2.0**26)
]
(_LG32_1, _LG32_2, _LG32_3, _LG32_4) = _LG32
_LN2_HI_F = f32(6.9313812256e-01)
_LN2_LO_F = f32(9.0580006145e-06)
_SQRT_HALF_32 = 0x3F3504F3
_TWO25 = f32(33554432.0)


@njit(**_JIT)
def _log_reduce32(x):
    bits = np.int64(_bits32(x)) + (0x3F800000 - _SQRT_HALF_32)
    k = (bits >> 23) - 127
    m = _from_bits32((bits & 0x007FFFFF) + _SQRT_HALF_32)
    return k, m - _ONE32


@njit(**_JIT)
def _log_kernel32(f):
    s = f / (f32(2.0) + f)
    z = s * s
    w = z * z
    t1 = w * (_LG32_2 + w * _LG32_4)
    t2 = z * (_LG32_1 + w * _LG32_3)
    hfsq = f32(0.5) * f * f
    return hfsq, s * (hfsq + (t2 + t1))


@njit(**_JIT)
def vm_log_f32(x):
    """log(x) for float32."""
    denormal = x < f32(1.17549435e-38)
    xs = x * _TWO25 if denormal else x
    k, f = _log_reduce32(xs)
    dk = f32(k) - (f32(25.0) if denormal else _ZERO32)
    hfsq, tail = _log_kernel32(f)
    y = (((tail + dk * _LN2_LO_F) - hfsq) + f) + dk * _LN2_HI_F
    y = y if x > _ZERO32 else (f32(-np.inf) if x == _ZERO32 else f32(np.nan))
    return x if x == f32(np.inf) else y


@njit(**_JIT)
def vm_log1p_f32(x):
    """log1p(x) for float32: 1 + x is exact in float64 for |x| >= 2^-29 (24-bit significand),
    so the float64 log of it, rounded once, is within 0.5 ulp + 2^-28 of the float32 result.
    Below 2^-25 log1p(x) rounds to x."""
    y = np.float32(vm_log_f64(1.0 + np.float64(x)))
    return x if abs(x) < f32(2.9802322e-08) else y


# ---------------------------------------------------------------------------------------------
# tanh = e / (e + 2) with e = expm1(2|x|): relative accuracy at every size, one division.


@njit(**_JIT)
def vm_tanh_f64(x):
    """tanh(x) for float64."""
    a = abs(x)
    a = 22.0 if a > 22.0 else a  # tanh rounds to 1 above 19.06; keeps e finite
    e = vm_expm1_f64(2.0 * a)
    t = e / (e + 2.0)
    t = -t if x < 0.0 else t
    return x if a < 3.725290298461914e-09 else t  # 2^-28: tanh(x) rounds to x (and -0.0)


@njit(**_JIT)
def vm_tanh_f32(x):
    """tanh(x) for float32."""
    a = abs(x)
    a = f32(10.0) if a > f32(10.0) else a  # tanhf rounds to 1 above 9.01
    # The quotient in float64 (e + 2 exact there) rounds once: ~1.5 ulp instead of ~2.2.
    e = np.float64(vm_expm1_f32(f32(2.0) * a))
    t = np.float32(e / (e + 2.0))
    t = -t if x < _ZERO32 else t
    return x if a < f32(0.0001220703125) else t  # 2^-13


# ---------------------------------------------------------------------------------------------
# sigmoid = 1 / (1 + exp(-x)); for x < 0 the form e / (1 + e), e = exp(x), keeps the tiny
# results (down to denormals) that exp(-x) overflowing would flush to 0.


@njit(**_JIT)
def vm_sigmoid_f64(x):
    """1 / (1 + exp(-x)) for float64."""
    e = vm_exp_f64(-abs(x))
    d = 1.0 + e
    return e / d if x < 0.0 else 1.0 / d


@njit(**_JIT)
def vm_sigmoid_f32(x):
    """1 / (1 + exp(-x)) for float32."""
    e = np.float64(vm_exp_f32(-abs(x)))
    d = 1.0 + e  # exact in float64; the quotient then rounds once to float32
    return np.float32(e / d if x < _ZERO32 else 1.0 / d)


# ---------------------------------------------------------------------------------------------
# erf (fdlibm s_erf.c, every piece computed and the right one selected):
#   |x| < 0.84375       x + x P(x^2)/Q(x^2)
#   0.84375 .. 1.25     erx + P(|x| - 1)/Q(|x| - 1)       (shares one rational with the above)
#   1.25 .. 6           1 - exp(-z^2 - 0.5625) exp((z - x)(z + x) + R(1/x^2)/S(1/x^2)) / x
#   >= 6                1
# The per-piece coefficients are selected before a single Horner evaluation, not after two.

_ERX = 8.45062911510467529297e-01
_EFX8 = 1.02703333676410069053e00
_PP = (
    1.28379167095512558561e-01,
    -3.25042107247001499370e-01,
    -2.84817495755985104766e-02,
    -5.77027029648944159157e-03,
    -2.37630166566501626084e-05,
    0.0,
    0.0,
)
_QQ = (
    3.97917223959155352819e-01,
    6.50222499887672944485e-02,
    5.08130628187576562776e-03,
    1.32494738004321644526e-04,
    -3.96022827877536812320e-06,
    0.0,
)
_PA = (
    -2.36211856075265944077e-03,
    4.14856118683748331666e-01,
    -3.72207876035701323847e-01,
    3.18346619901161753674e-01,
    -1.10894694282396677476e-01,
    3.54783043256182359371e-02,
    -2.16637559486879084300e-03,
)
_QA = (
    1.06420880400844228286e-01,
    5.40397917702171048937e-01,
    7.18286544141962662868e-02,
    1.26171219808761642112e-01,
    1.36370839120290507362e-02,
    1.19844998467991074170e-02,
)
_RA = (
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e01,
    -6.23753324503260060396e01,
    -1.62396669462573470355e02,
    -1.84605092906711035994e02,
    -8.12874355063065934246e01,
    -9.81432934416914548592e00,
)
_SA = (
    1.96512716674392571292e01,
    1.37657754143519042600e02,
    4.34565877475229228821e02,
    6.45387271733267880336e02,
    4.29008140027567833386e02,
    1.08635005541779435134e02,
    6.57024977031928170135e00,
    -6.04244152148580987438e-02,
)
_RB = (
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e01,
    -1.60636384855821916062e02,
    -6.37566443368389627722e02,
    -1.02509513161107724954e03,
    -4.83519191608651397019e02,
    0.0,
)
_SB = (
    3.03380607434824582924e01,
    3.25792512996573918826e02,
    1.53672958608443695994e03,
    3.19985821950859553908e03,
    2.55305040643316442583e03,
    4.74528541206955367215e02,
    -2.24409524465858183362e01,
    0.0,
)
(_PP0, _PP1, _PP2, _PP3, _PP4, _PP5, _PP6) = _PP
(_QQ1, _QQ2, _QQ3, _QQ4, _QQ5, _QQ6) = _QQ
(_PA0, _PA1, _PA2, _PA3, _PA4, _PA5, _PA6) = _PA
(_QA1, _QA2, _QA3, _QA4, _QA5, _QA6) = _QA
(_RA0, _RA1, _RA2, _RA3, _RA4, _RA5, _RA6, _RA7) = _RA
(_SA1, _SA2, _SA3, _SA4, _SA5, _SA6, _SA7, _SA8) = _SA
(_RB0, _RB1, _RB2, _RB3, _RB4, _RB5, _RB6, _RB7) = _RB
(_SB1, _SB2, _SB3, _SB4, _SB5, _SB6, _SB7, _SB8) = _SB


@njit(**_JIT)
def _erf_near(a):
    """erf(a) for 0 <= a < 1.25 (a >= 2^-28)."""
    small = a < 0.84375
    v = a * a if small else a - 1.0
    p = (_PP0 if small else _PA0) + v * (
        (_PP1 if small else _PA1)
        + v
        * (
            (_PP2 if small else _PA2)
            + v
            * (
                (_PP3 if small else _PA3)
                + v
                * (
                    (_PP4 if small else _PA4)
                    + v * ((_PP5 if small else _PA5) + v * (_PP6 if small else _PA6))
                )
            )
        )
    )
    q = 1.0 + v * (
        (_QQ1 if small else _QA1)
        + v
        * (
            (_QQ2 if small else _QA2)
            + v
            * (
                (_QQ3 if small else _QA3)
                + v
                * (
                    (_QQ4 if small else _QA4)
                    + v * ((_QQ5 if small else _QA5) + v * (_QQ6 if small else _QA6))
                )
            )
        )
    )
    y = p / q
    return a + a * y if small else _ERX + y


@njit(**_JIT)
def _erf_tail(a):
    """erf(a) for 1.25 <= a < 6."""
    a = 1.25 if a < 1.25 else (6.0 if a > 6.0 else a)  # other lanes: keep the arithmetic finite
    b = a < 2.857142857142857  # 1 / 0.35
    s = 1.0 / (a * a)
    r = (_RA0 if b else _RB0) + s * (
        (_RA1 if b else _RB1)
        + s
        * (
            (_RA2 if b else _RB2)
            + s
            * (
                (_RA3 if b else _RB3)
                + s
                * (
                    (_RA4 if b else _RB4)
                    + s
                    * (
                        (_RA5 if b else _RB5)
                        + s * ((_RA6 if b else _RB6) + s * (_RA7 if b else _RB7))
                    )
                )
            )
        )
    )
    q = 1.0 + s * (
        (_SA1 if b else _SB1)
        + s
        * (
            (_SA2 if b else _SB2)
            + s
            * (
                (_SA3 if b else _SB3)
                + s
                * (
                    (_SA4 if b else _SB4)
                    + s
                    * (
                        (_SA5 if b else _SB5)
                        + s
                        * (
                            (_SA6 if b else _SB6)
                            + s * ((_SA7 if b else _SB7) + s * (_SA8 if b else _SB8))
                        )
                    )
                )
            )
        )
    )
    z = _from_bits64(_bits64(a) & np.int64(-4294967296))  # a with the low 32 bits cleared
    e = vm_exp_f64(-z * z - 0.5625) * vm_exp_f64((z - a) * (z + a) + r / q)
    return 1.0 - e / a


@njit(**_JIT)
def vm_erf_f64(x):
    """erf(x) for float64."""
    a = abs(x)
    y = _erf_near(a) if a < 1.25 else (_erf_tail(a) if a < 6.0 else 1.0)
    y = -y if x < 0.0 else y
    y = 0.125 * (8.0 * x + _EFX8 * x) if a < 3.725290298461914e-09 else y  # 2^-28 (and -0.0)
    return x if x != x else y


@njit(**_JIT)
def vm_erf_f32(x):
    """erf(x) for float32, computed in float64 and rounded once."""
    return np.float32(vm_erf_f64(np.float64(x)))


# ---------------------------------------------------------------------------------------------
# pow(x, y) = exp(y log|x|). An error d in y log|x| is a relative error d in the result, and
# |y log|x|| reaches 745 before the result under/overflows: log|x| and the product are kept in
# double-double (~2^-100) so the final exp sees an argument accurate to well below an ulp.

# atanh series: log((1 + s) / (1 - s)) = 2s (1 + s^2/3 + s^4/5 + ...); |s| <= 0.1716 so s^2 <=
# 0.0295 and 12 terms leave 0.0295^12 / 25 = 2e-20 relative.
_AT = [2.0 / (2 * k + 1) for k in range(1, 12)]
(_AT1, _AT2, _AT3, _AT4, _AT5, _AT6, _AT7, _AT8, _AT9, _AT10, _AT11) = _AT
_TWO3_HI = 2.0 / 3.0
_TWO3_LO = float(Fraction(2, 3) - Fraction(_TWO3_HI))
_LN2_DD_HI = 6.93147180559945286227e-01
_LN2_DD_LO = 2.31904681384629955842e-17


@njit(**_JIT)
def _log_dd(x):
    """log(x) as a double-double (hi, lo) for positive finite x (denormals included)."""
    denormal = x < 2.2250738585072014e-308
    xs = x * _TWO54 if denormal else x
    k, f = _log_reduce64(xs)
    dk = np.float64(k) - (54.0 if denormal else 0.0)
    # s = f / (2 + f) as a double-double. 2 + f needs one bit more than a double (f has bits
    # down to 2^-52, 2 + f an ulp of 2^-51): d + d_lo holds it exactly. f - s d is exact (the
    # remainder of a correctly rounded division) and s_lo = (f - s (d + d_lo)) / d.
    d = 2.0 + f
    d_lo = f - (d - 2.0)
    s = f / d
    s_lo = (_fma(-s, d, f) - s * d_lo) / d
    # 2s + 2s^3/3 + s^5 (...): the s^3 term reaches 1% of the result, so it is formed in
    # double-double too (s^2, s^3 with fma; 2/3 as hi + lo); the rest is below 2^-12 relative.
    z = s * s
    z_lo = _fma(s, s, -z)
    c3 = s * z
    c3_lo = _fma(s, z, -c3) + (s * z_lo + 3.0 * z * s_lo)
    rest = z * (
        _AT2
        + z
        * (
            _AT3
            + z
            * (
                _AT4
                + z
                * (
                    _AT5
                    + z * (_AT6 + z * (_AT7 + z * (_AT8 + z * (_AT9 + z * (_AT10 + z * _AT11)))))
                )
            )
        )
    )
    th = c3 * _TWO3_HI
    tl = _fma(c3, _TWO3_HI, -th) + (c3_lo * _TWO3_HI + c3 * (_TWO3_LO + rest))
    kh = dk * _LN2_DD_HI
    hi, lo = _two_sum(kh, 2.0 * s)
    hi, lo2 = _two_sum(hi, th)
    lo = lo + lo2 + (_fma(dk, _LN2_DD_HI, -kh) + dk * _LN2_DD_LO + 2.0 * s_lo + tl)
    return _two_sum(hi, lo)


@njit(**_JIT)
def vm_pow_f64(x, y):
    """x ** y for float64 (C99 / NumPy special cases)."""
    ax = abs(x)
    finite_nonzero = ax > 0.0 and ax < np.inf
    lh, ll = _log_dd(ax if finite_nonzero else 1.0)
    lh = lh if finite_nonzero else (-np.inf if ax == 0.0 else ax)  # log 0, log inf, log nan
    ll = ll if finite_nonzero else 0.0
    ph = y * lh
    pl = _fma(y, lh, -ph) + y * ll
    pl = pl if (ph > -800.0 and ph < 800.0) else 0.0  # inf - inf would be nan; unneeded anyway
    r = _exp_dd(ph, pl)
    integer = _floor(y) == y
    odd = integer and _floor(0.5 * y) * 2.0 != y
    r = -r if (odd and _bits64(x) < 0) else r  # x < 0 or x = -0.0
    r = np.nan if (x < 0.0 and x > -np.inf and not integer) else r
    r = 1.0 if (x == -1.0 and abs(y) == np.inf) else r
    return 1.0 if (y == 0.0 or x == 1.0) else r


@njit(**_JIT)
def vm_pow_f32(x, y):
    """x ** y for float32: the float64 result (a few 1e-16 relative) rounded once."""
    return np.float32(vm_pow_f64(np.float64(x), np.float64(y)))


# ---------------------------------------------------------------------------------------------
# sin, cos for float32. x = M 2^E (M the 24-bit integer significand). Payne-Hanek: with
# C_E = (2^E 2/pi) mod 4 tabulated per exponent, x 2/pi = M C_E (mod 4) since M is an integer;
# M C_E is formed from a two-double C_E with an exact fma product, so every float32, up to
# 3.4e38, is reduced with ~2^-75 absolute accuracy (the closest float32 to a multiple of pi/2 is
# ~2^-30 away). The remainder r in [-pi/4, pi/4] goes through fdlibm's degree-13/14 kernels in
# float64 and the result is rounded to float32 once.


def _two_over_pi_table() -> tuple[np.ndarray, np.ndarray]:
    """(hi, mid) doubles with hi + mid = (2^E 2/pi) mod 4, E = max(b, 1) - 150 per float32
    biased exponent b in 0..254; from 2/pi to 700 bits (Machin's formula, integers)."""
    bits = 700
    scale = 1 << (bits + 20)

    def arctan_inv(n: int) -> int:
        total, term, k, n2 = 0, scale // n, 1, n * n
        while term:
            total += term // k if (k // 2) % 2 == 0 else -(term // k)
            term //= n2
            k += 2
        return total

    pi_fixed = 16 * arctan_inv(5) - 4 * arctan_inv(239)
    two_over_pi = Fraction(2 * scale, pi_fixed)
    hi = np.empty(255)
    mid = np.empty(255)
    for b in range(255):
        value = two_over_pi * Fraction(2) ** (max(b, 1) - 150)
        value -= 4 * math.floor(value / 4)
        hi[b] = float(value)
        mid[b] = float(value - Fraction(hi[b]))
    return hi, mid


_TWO_OVER_PI_HI, _TWO_OVER_PI_MID = _two_over_pi_table()
_PIO2 = 1.57079632679489655800e00
_S1, _S2, _S3, _S4, _S5, _S6 = (
    -1.66666666666666324348e-01,
    8.33333333332248946124e-03,
    -1.98412698298579493134e-04,
    2.75573137070700676789e-06,
    -2.50507602534068634195e-08,
    1.58969099521155010221e-10,
)
_C1, _C2, _C3, _C4, _C5, _C6 = (
    4.16666666666666019037e-02,
    -1.38888888888741095749e-03,
    2.48015872894767294178e-05,
    -2.75573143513906633035e-07,
    2.08757232129817482790e-09,
    -1.13596475577881948265e-11,
)


@njit(**_JIT)
def _reduce_pio2_f32(x):
    """(r, n) with |x| = r + n pi/2 (mod 2 pi), r in [-pi/4, pi/4] (float64), n in 0..3."""
    bits = np.int64(_bits32(x)) & 0x7FFFFFFF
    b = bits >> 23
    m = np.float64((bits & 0x7FFFFF) | (0x800000 if b > 0 else 0))
    idx = 254 if b > 254 else b
    c_hi = _TWO_OVER_PI_HI[idx]
    c_mid = _TWO_OVER_PI_MID[idx]
    ph = m * c_hi
    pl = _fma(m, c_hi, -ph)  # m c_hi = ph + pl exactly
    a = ph - 4.0 * _floor(ph * 0.25)  # ph mod 4, exact
    rest = pl + m * c_mid
    nf = _rint(a + rest)
    f = (a - nf) + rest  # a - nf is exact
    return f * _PIO2, np.int64(nf) & 3


@njit(**_JIT)
def _sin_kernel(r):
    z = r * r
    w = z * z
    p = _S2 + z * (_S3 + z * _S4) + z * w * (_S5 + z * _S6)
    return r + (z * r) * (_S1 + z * p)


@njit(**_JIT)
def _cos_kernel(r):
    z = r * r
    w = z * z
    p = z * (_C1 + z * (_C2 + z * _C3)) + w * w * (_C4 + z * (_C5 + z * _C6))
    hz = 0.5 * z
    v = 1.0 - hz
    return v + (((1.0 - v) - hz) + z * p)


@njit(**_JIT)
def vm_sin_f32(x):
    """sin(x) for float32."""
    r, n = _reduce_pio2_f32(x)
    s = _sin_kernel(r)
    c = _cos_kernel(r)
    v = c if (n & 1) else s
    v = -v if (n & 2) else v
    v = -v if _bits32(x) < 0 else v  # sin is odd; also gives sin(-0.0) = -0.0
    return np.float32(v) if abs(x) < f32(np.inf) else f32(np.nan)


@njit(**_JIT)
def vm_cos_f32(x):
    """cos(x) for float32."""
    r, n = _reduce_pio2_f32(x)
    s = _sin_kernel(r)
    c = _cos_kernel(r)
    v = s if (n & 1) else c
    v = -v if ((n + 1) & 2) else v
    return np.float32(v) if abs(x) < f32(np.inf) else f32(np.nan)


# ---------------------------------------------------------------------------------------------
# What the generated code can call: function name -> njit dispatcher. `FUNCTIONS[(op, dtype)]`
# is the name for a jitgraph op name ("exp", ...) and a dtype name ("float32", "float64").

NAMESPACE: dict[str, Any] = {
    name: fn for name, fn in globals().items() if name.startswith("vm_") and hasattr(fn, "py_func")
}
FUNCTIONS: dict[tuple[str, str], str] = {}
for _name in NAMESPACE:
    _op, _suffix = _name[3:].rsplit("_", 1)
    FUNCTIONS[(_op, {"f32": "float32", "f64": "float64"}[_suffix])] = _name
