"""The seed essay's memory example: `C = B * A; D = C + 1`, saved, loaded and compiled.

Run: python examples/seed_memory.py
"""

import os
import tempfile

import numpy as np

import jitgraph as jg

A = jg.Variable("A")
B = jg.Variable("B")
C = B * A
D = C + jg.Constant(1)
f = jg.compile(D)
d = f(A=np.ones(10), B=np.ones(10) * 2)
print(d)

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "mygraph")
    D.save(path)
    D2 = jg.load(path)
    f = jg.compile([D2])
    print(f(A=np.ones(10), B=np.ones(10) * 2))

# One fused loop: C is never stored (see the generated code).
print(f.source(A=np.ones(10), B=np.ones(10) * 2))
