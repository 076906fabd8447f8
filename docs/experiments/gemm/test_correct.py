import sys, numpy as np
sys.path.insert(0,'/tmp/gemm')
from gemm_slp import matmul
rng = np.random.default_rng(0)
worst = {}
for dt in (np.float32, np.float64):
    for (M,K,N) in [(1,1,1),(37,29,53),(100,513,10),(8,256,32),(9,257,33),(255,784,127),(2048,10,512),(3,1000,17),(129,300,16),(64,5,64)]:
        for kind in ('NN','TN','NT'):
            if kind=='NN': A=rng.standard_normal((M,K)).astype(dt); B=rng.standard_normal((K,N)).astype(dt)
            if kind=='TN': A=rng.standard_normal((K,M)).astype(dt).T; B=rng.standard_normal((K,N)).astype(dt)
            if kind=='NT': A=rng.standard_normal((M,K)).astype(dt); B=rng.standard_normal((N,K)).astype(dt).T
            C = matmul(A,B)
            ref = A.astype(np.float64) @ B.astype(np.float64)
            npr = (A@B)
            e = np.abs(C-ref).max()/max(np.abs(ref).max(),1e-30); en = np.abs(npr-ref).max()/max(np.abs(ref).max(),1e-30)
            ok = e <= max(4*en, 10*np.finfo(dt).eps*np.sqrt(K))
            if not ok: print("FAIL", dt.__name__, kind, M,K,N, e, en)
            worst[dt.__name__] = max(worst.get(dt.__name__,0), e/max(en,np.finfo(dt).eps))
print("done; worst err ratio vs numpy:", worst)
