import os, sys, time, numpy as np, numba
import jax; jax.config.update("jax_enable_x64", True)
sys.path.insert(0,'/tmp/gemm')
from bench_base import *
import gemm_slp
from gemm_slp import matmul
rng = np.random.default_rng(0)
rows = []
for name, kind, ash, bsh, dt in SHAPES:
    a = rng.standard_normal(ash).astype(dt); b = rng.standard_normal(bsh).astype(dt)
    A = a.T if kind=='TN' else a
    B = b.T if kind=='NT' else b
    out = np.empty((A.shape[0], B.shape[1]), dt)
    SER = True if os.environ.get("NUMBA_NUM_THREADS") == "1" else None
    t = time.time(); matmul(A, B, out, serial=SER); ct = time.time() - t
    ref = A.astype(np.float64) @ B.astype(np.float64)
    err = np.abs(out-ref).max()/np.abs(ref).max(); errnp = np.abs(npf(kind,a,b)()-ref).max()/np.abs(ref).max()
    fs = {'numba': (lambda A,B,out: lambda: matmul(A,B,out,serial=SER))(A,B,out), 'numpy': npf(kind,a,b), 'jax': jaxf(kind,a,b)}
    r = bench(fs, rounds=int(sys.argv[1]) if len(sys.argv)>1 else 4, per=8)
    rows.append((name, r, ct, err, errnp))
    print(name, r, "compile %.1fs" % ct, "err %.1e (numpy %.1e)" % (err, errnp), flush=True)
print("\n| shape | numba med (min) | numpy med (min) | jax med (min) | first-call s |")
for name, r, ct, err, errnp in rows:
    print("| %s | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) | %.1f |" % (name, *r['numba'], *r['numpy'], *r['jax'], ct))
