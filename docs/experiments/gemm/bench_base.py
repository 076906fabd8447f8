import os, time, numpy as np
import jax, jax.numpy as jnp
def med(f, n=25, warm=3):
    for _ in range(warm): f()
    ts=[]
    for _ in range(n):
        t=time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    return np.median(ts)*1e3
jmm = jax.jit(lambda x, W: x @ W)
jmmT = jax.jit(lambda x, W: x.T @ W)
jmmBT = jax.jit(lambda x, W: x @ W.T)
def jaxf(kind, a, b):
    da, db = jax.device_put(a), jax.device_put(b)
    f = {'NN': jmm, 'TN': jmmT, 'NT': jmmBT}[kind]
    return lambda: f(da, db).block_until_ready()
def npf(kind, a, b):
    if kind=='NN': return lambda: a @ b
    if kind=='TN': return lambda: a.T @ b
    return lambda: a @ b.T
SHAPES = [  # name, kind, ashape, bshape, dtype
 ('2048x784@784x512', 'NN', (2048,784), (784,512), np.float32),
 ('256x784@784x128', 'NN', (256,784), (784,128), np.float32),
 ('2048x512@512x10', 'NN', (2048,512), (512,10), np.float32),
 ('x.T@dh 784x2048@2048x512', 'TN', (2048,784), (2048,512), np.float32),
 ('dlog@w2.T 2048x10@10x512', 'NT', (2048,10), (512,10), np.float32),
 ('f64 2048x784@784x512', 'NN', (2048,784), (784,512), np.float64),
]

def bench(fs, rounds=4, per=8, pause=0.3):
    """Side-by-side in one process, but in blocks: each fn runs `per` times back to back
    (after a warm-up call and a pause, so other libraries' spinning worker threads go idle).
    Returns median ms over rounds*per samples."""
    ts = {k: [] for k in fs}
    keys = list(fs)
    for r in range(rounds):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:   # rotate order each round
            f = fs[k]
            time.sleep(pause)
            f()
            for _ in range(per):
                t = time.perf_counter(); f(); ts[k].append(time.perf_counter() - t)
    return {k: (round(np.median(v) * 1e3, 2), round(np.min(v) * 1e3, 2)) for k, v in ts.items()}
