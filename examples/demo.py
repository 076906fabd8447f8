"""`make demo`: build a graph, compile it, look inside, run it, compare with NumPy."""

import time

import numpy as np

import jitgraph as jg


def banner(title: str) -> None:
    print(f"\n{'=' * 8} {title} {'=' * (80 - len(title))}")


a, b, c, d = (jg.Variable(n) for n in "ABCD")
e = (a * b) + (c * d)

banner("the symbol")
print(e, "arguments:", e.list_arguments(), "outputs:", e.list_outputs())
print("internals:", e.get_internals().list_outputs())

f = jg.compile(e)
rng = np.random.default_rng(0)
arrays = {n: rng.uniform(0, 1, (4096, 4096)).astype(np.float32) for n in "ABCD"}

banner("typed graph for four f32[n,m] arrays")
print(f.graph(**arrays))

banner("generated code (one parallel loop nest; A*B and C*D are never stored)")
print(f.source(**arrays))

banner("run")
start = time.perf_counter()
out = f(**arrays)
print(f"first call (includes Numba compile): {time.perf_counter() - start:.2f} s")
expected = arrays["A"] * arrays["B"] + arrays["C"] * arrays["D"]
print("max abs difference vs NumPy:", float(np.max(np.abs(out - expected))))
print(out[:2, :4])


def best_of(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


jit_time = best_of(lambda: f(**arrays))
np_time = best_of(lambda: arrays["A"] * arrays["B"] + arrays["C"] * arrays["D"])
print(
    f"median time: jitgraph {jit_time * 1e3:.1f} ms, NumPy {np_time * 1e3:.1f} ms "
    f"({np_time / jit_time:.1f}x)"
)

banner("row softmax: what the compiler did (f.inspect)")
x = jg.Variable("x")
exps = jg.sym.exp(x - x.max(axis=1, keepdims=True))
softmax = jg.compile(exps / exps.sum(axis=1, keepdims=True))
xs = rng.standard_normal((4096, 1024)).astype(np.float32)
report = softmax.inspect(x=xs)
text = str(report)
print(text[text.index("== fusion groups") : text.index("== generated code")].rstrip())
got = softmax(x=xs)
ex = np.exp(xs - xs.max(axis=1, keepdims=True))
print(
    "max abs difference vs NumPy:", float(np.max(np.abs(got - ex / ex.sum(axis=1, keepdims=True))))
)

banner("the seed example, bound to int32 arrays")
ex = e.bind(jg.cpu(), {n: np.array([v], np.int32) for n, v in zip("ABCD", (1, 2, 3, 4))})
print(ex.forward())
