#!/usr/bin/python3
"""Writes the expected values the metric golden tests read (tests/metrics/golden/metrics.txt).

An implementation independent of the C++ one: numpy in float64 from the float32 inputs, and POT
(ot.sinkhorn2 with method='sinkhorn_log', ot.emd2) for optimal transport when it can be imported
(see DESIGN.md: `apt-get download python3-pot python3-scipy liblbfgsb0`, `dpkg -x` each, then
PYTHONPATH=DIR/usr/lib/python3/dist-packages LD_LIBRARY_PATH=DIR/usr/lib/x86_64-linux-gnu).
Without POT a plain numpy log-domain Sinkhorn (run to 1e-13) and brute force over permutations
(uniform weights, equal sizes) stand in; the file records which was used.

Usage: /usr/bin/python3 tools/golden_metrics.py [OUT]   (default tests/metrics/golden/metrics.txt)

Format, one record per block, numbers in %.9g (exact for float32) or %.17g (float64 expectations):
  case <kind> <tag...>      header
  <name> <count> v1 ... vN  arrays
  expect <name> <value>     expected values
  end
"""
import itertools
import os
import sys

import numpy as np

try:
    import ot  # noqa: F401
    HAVE_POT = True
except Exception:  # pragma: no cover - depends on the machine
    HAVE_POT = False

rng = np.random.default_rng(20240603)
SIZES = [1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 100, 257, 768, 1536]
out_lines = []


def arr(name, x):
    x = np.asarray(x, dtype=np.float32).ravel()
    out_lines.append(f"{name} {x.size} " + " ".join(f"{v:.9g}" for v in x))


def expect(name, v):
    out_lines.append(f"expect {name} {float(v):.17g}")


def prob(n, zeros=False):
    p = rng.gamma(0.7, size=n).astype(np.float32)
    if zeros and n > 2:
        p[rng.choice(n, size=max(1, n // 5), replace=False)] = 0
    if p.sum() == 0:
        p[0] = 1
    p = (p / p.sum()).astype(np.float32)
    return p


def kl(p, q):
    p = p.astype(np.float64); q = q.astype(np.float64)
    m = p > 0
    return float(np.sum(p[m] * np.log(p[m] / q[m])))


def js(p, q):
    p = p.astype(np.float64); q = q.astype(np.float64)
    m = 0.5 * (p + q)
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


# ---- vectors ---------------------------------------------------------------------------------------
for n in SIZES:
    a = rng.standard_normal(n).astype(np.float32)
    b = (0.5 * a + rng.standard_normal(n)).astype(np.float32)
    A = a.astype(np.float64); B = b.astype(np.float64)
    out_lines.append(f"case vector {n}")
    arr("a", a); arr("b", b)
    expect("dot", A @ B)
    expect("l2sq", np.sum((A - B) ** 2))
    expect("l2", np.sqrt(np.sum((A - B) ** 2)))
    expect("cos", 1 - (A @ B) / np.sqrt((A @ A) * (B @ B)))
    expect("ip", 1 - A @ B)
    out_lines.append("end")

# ---- distributions ----------------------------------------------------------------------------------
for n in SIZES:
    for zeros in (False, True):
        if n < 3 and zeros:
            continue
        p = prob(n, zeros)
        q = prob(n, False)  # q > 0 everywhere: KL(p || q) finite
        P = p.astype(np.float64); Q = q.astype(np.float64)
        out_lines.append(f"case probability {n} {int(zeros)}")
        arr("p", p); arr("q", q)
        expect("kl", kl(p, q))
        expect("js", js(p, q))
        expect("jsd", np.sqrt(max(js(p, q), 0)))
        expect("hellinger", np.sqrt(0.5 * np.sum((np.sqrt(P) - np.sqrt(Q)) ** 2)))
        expect("tv", 0.5 * np.sum(np.abs(P - Q)))
        out_lines.append("end")


# ---- optimal transport --------------------------------------------------------------------------------
def sinkhorn_numpy(a, b, C, eps, tol=1e-13, iters=200000):
    from numpy import logaddexp
    f = np.zeros_like(a); g = np.zeros_like(b)
    la, lb = np.log(a), np.log(b)
    for _ in range(iters):
        f = eps * (la - np.logaddexp.reduce((g[None, :] - C) / eps, axis=1))
        g = eps * (lb - np.logaddexp.reduce((f[:, None] - C) / eps, axis=0))
        P = np.exp((f[:, None] + g[None, :] - C) / eps)
        if np.abs(P.sum(1) - a).sum() < tol:
            break
    return float(np.sum(P * C))


def exact_uniform(C):
    n = C.shape[0]
    return min(sum(C[i, s[i]] for i in range(n)) for s in itertools.permutations(range(n))) / n


for (n, m, d, eps) in [(4, 4, 3, 0.5), (5, 7, 8, 0.1), (16, 16, 32, 0.05), (32, 32, 256, 0.05), (12, 9, 16, 0.02)]:
    X = rng.standard_normal((n, d)).astype(np.float32) / np.sqrt(d)
    Y = rng.standard_normal((m, d)).astype(np.float32) / np.sqrt(d)
    a = rng.uniform(0.2, 1.0, n); a = (a / a.sum()).astype(np.float32)
    b = rng.uniform(0.2, 1.0, m); b = (b / b.sum()).astype(np.float32)
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    C = np.sqrt(np.maximum(((X64[:, None, :] - Y64[None, :, :]) ** 2).sum(-1), 0))  # euclidean cost (WMD)
    A = a.astype(np.float64) / a.astype(np.float64).sum(); B = b.astype(np.float64) / b.astype(np.float64).sum()
    out_lines.append(f"case transport {n} {m} {d} {eps:.17g}")
    arr("x", X); arr("y", Y); arr("a", a); arr("b", b)
    if HAVE_POT:
        import ot
        s = float(ot.sinkhorn2(A, B, C, eps, method="sinkhorn_log", numItermax=200000, stopThr=1e-13))
        e = float(ot.emd2(A, B, C))
    else:
        s = sinkhorn_numpy(A, B, C, eps)
        e = float("nan")
    expect("sinkhorn", s)
    if e == e:
        expect("emd", e)
    rx = float(np.sum(A * C.min(axis=1))); ry = float(np.sum(B * C.min(axis=0)))
    expect("rwmd", max(rx, ry))
    out_lines.append("end")

# exact OT by permutations (uniform weights, equal sizes) for the epsilon -> 0 test
for n in (3, 5, 6):
    X = rng.standard_normal((n, 4)).astype(np.float32)
    Y = rng.standard_normal((n, 4)).astype(np.float32)
    C = ((X.astype(np.float64)[:, None, :] - Y.astype(np.float64)[None, :, :]) ** 2).sum(-1)  # squared euclidean
    out_lines.append(f"case exact {n}")
    arr("x", X); arr("y", Y)
    expect("exact", exact_uniform(C))
    out_lines.append("end")

# ---- Mahalanobis: distance and one SGD step of the documented rule -----------------------------------
for (k, d) in [(3, 3), (2, 5), (8, 8)]:
    L = rng.standard_normal((k, d)).astype(np.float32)
    x, p, q = (rng.standard_normal(d).astype(np.float32) for _ in range(3))
    margin, lr, decay, clip, t = 1.0, 0.05, 0.01, 10.0, 0
    L64 = L.astype(np.float64)
    u = x.astype(np.float64) - p; v = x.astype(np.float64) - q
    du, dv = np.sum((L64 @ u) ** 2), np.sum((L64 @ v) ** 2)
    loss = max(0.0, margin + du - dv)
    G = 2 * np.outer(L64 @ u, u) - 2 * np.outer(L64 @ v, v)
    gn = np.linalg.norm(G)
    G *= min(1.0, clip / gn) if gn > 0 else 1.0
    eta = lr / (1 + decay * t)
    L1 = L64 - eta * G if loss > 0 else L64
    out_lines.append(f"case mahalanobis {k} {d} {margin} {lr} {decay} {clip}")
    arr("L", L); arr("x", x); arr("p", p); arr("q", q)
    expect("dxp", np.sqrt(du))
    expect("loss", loss)
    out_lines.append("L1 %d " % L1.size + " ".join(f"{v:.17g}" for v in L1.ravel()))
    out_lines.append("end")

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "metrics", "golden", "metrics.txt")
with open(path, "w") as fh:
    fh.write(f"# written by tools/golden_metrics.py (numpy {np.__version__}; transport reference: "
             f"{'POT ' + ot.__version__ if HAVE_POT else 'numpy log-domain Sinkhorn'})\n")
    fh.write("\n".join(out_lines) + "\n")
print(f"wrote {path}: {sum(1 for l in out_lines if l.startswith('case'))} cases, POT={HAVE_POT}")
