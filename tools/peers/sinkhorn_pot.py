#!/usr/bin/python3
"""POT peer for bench_metrics' Sinkhorn: the same inputs (n x n points in d = 256, squared Euclidean
cost divided by its max, uniform weights, reg = 0.05, stopThr = 1e-6) through ot.sinkhorn2, timed per
pair (median of 5 repetitions of a timed loop). Also times ot.sinkhorn2(method='sinkhorn_log').

POT is not installed system-wide (python3-scipy conflicts with libboost1.81-dev); unpack it privately:
  apt-get download python3-pot python3-scipy liblbfgsb0 && for f in *.deb; do dpkg -x $f DIR; done
  PYTHONPATH=DIR/usr/lib/python3/dist-packages LD_LIBRARY_PATH=DIR/usr/lib/x86_64-linux-gnu \
      /usr/bin/python3 tools/peers/sinkhorn_pot.py

The points are not bit-identical to the C++ benchmark's (different generators); the problem
(distribution, sizes, eps, tolerance) is the same, and the iteration count is printed beside the C++
one so the work per pair can be compared. Note: POT's stopping rule is the L2 norm of the column
marginal error checked every 10 iterations; slotdiff's is the L1 row marginal error checked every
iteration (stricter).
"""
import statistics
import sys
import time

import numpy as np
import ot

print(f"POT {ot.__version__}, numpy {np.__version__}")
for n in (16, 32, 64):
    rng = np.random.default_rng(7 + n)
    x = rng.standard_normal((n, 256)) / 16
    y = rng.standard_normal((n, 256)) / 16
    M = ot.dist(x, y)  # squared Euclidean
    M /= M.max()
    a = np.full(n, 1.0 / n)
    for method in ("sinkhorn", "sinkhorn_log"):
        reps = []
        for _ in range(5):
            loops = 0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 0.5:
                c = ot.sinkhorn2(a, a, M, 0.05, method=method, stopThr=1e-6, numItermax=100000)
                loops += 1
            reps.append((time.perf_counter() - t0) / loops)
        _, log = ot.sinkhorn(a, a, M, 0.05, method=method, stopThr=1e-6, numItermax=100000, log=True)
        its = log.get("niter", len(log.get("err", [])) * 10)
        print(f"ot.sinkhorn2 {method:13s} n={n:3d}: {statistics.median(reps) * 1e6:9.1f} us/pair "
              f"(median of 5), cost {float(c):.6f}, ~{its} iterations")
    # full pipeline from points: ot.dist + sinkhorn2
    reps = []
    for _ in range(5):
        loops = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.5:
            M2 = ot.dist(x, y)
            ot.sinkhorn2(a, a, M2 / M2.max(), 0.05, stopThr=1e-6, numItermax=100000)
            loops += 1
        reps.append((time.perf_counter() - t0) / loops)
    print(f"ot.dist + ot.sinkhorn2     n={n:3d}: {statistics.median(reps) * 1e6:9.1f} us/pair")
sys.stdout.flush()
