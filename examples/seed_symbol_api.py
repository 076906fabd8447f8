"""The seed tutorial's Symbol API example (MXNet's "Getting started, part 2"), with jitgraph.

Run: python examples/seed_symbol_api.py
"""

import numpy as np

import jitgraph as jg

a = jg.Variable("A")
b = jg.Variable("B")
c = jg.Variable("C")
d = jg.Variable("D")
e = (a * b) + (c * d)

print((a, b, c, d))
print(e)
print(e.list_arguments())
print(e.list_outputs())
print(e.get_internals().list_outputs())

a_data = np.array([1], dtype=np.int32)
b_data = np.array([2], dtype=np.int32)
c_data = np.array([3], dtype=np.int32)
d_data = np.array([4], dtype=np.int32)
executor = e.bind(jg.cpu(), {"A": a_data, "B": b_data, "C": c_data, "D": d_data})
e_data = executor.forward()
print(e_data)
print(e_data[0])

rng = np.random.default_rng(0)
a_data, b_data, c_data, d_data = (
    rng.uniform(0, 1, (1000, 1000)).astype(np.float32) for _ in range(4)
)
executor = e.bind(jg.cpu(), {"A": a_data, "B": b_data, "C": c_data, "D": d_data})
e_data = executor.forward()
print(e_data[0])
