#!/usr/bin/env python3
"""Checks one Adam-atan2 step of trm-native against the update rule of docs/algorithm.md §3.2 written in torch.

Reads the raw float32 files and meta.txt that `optim_test --dump-dir DIR` writes, recomputes the step
from p0, g, m0, v0 (decoupled decay first, lerp moments, then a step of lr / (1 - β1^t) times
atan2(m, sqrt(v) / sqrt(1 - β2^t)) as adam-atan2 0.0.3's reference does, no epsilon)
and compares p1, m1, v1. Exit 0 when every relative error is below 1e-6.
Usage: python3 test/native/adam_atan2_ref.py DIR
"""
import math
import os
import sys

import numpy as np
import torch


def load(d, name, n):
    a = np.fromfile(os.path.join(d, name + ".f32"), dtype="<f4")
    assert a.size == n, f"{name}: expected {n} floats, found {a.size}"
    return torch.from_numpy(a)


def main():
    d = sys.argv[1]
    meta = dict(line.split() for line in open(os.path.join(d, "meta.txt")) if line.strip())
    n, t = int(meta["n"]), int(meta["t"])
    lr, b1, b2, wd = (float(meta[k]) for k in ("lr", "beta1", "beta2", "weight_decay"))
    p, g, m, v = (load(d, k, n).clone() for k in ("p0", "g", "m0", "v0"))

    # docs/algorithm.md §3.2, in fp32 tensors
    p.mul_(1 - lr * wd)
    m.lerp_(g, 1 - b1)
    v.lerp_(g * g, 1 - b2)
    p.sub_(lr / (1 - b1 ** t) * torch.atan2(m, v.sqrt() / math.sqrt(1 - b2 ** t)))

    ok = True
    for name, want in (("p1", p), ("m1", m), ("v1", v)):
        got = load(d, name, n)
        # Element-wise relative error, floored at a tenth of the tensor's scale: an m that cancels to ~0
        # (m0 + 0.1·(g - m0) with m0 ≈ -0.1·g/0.9) only keeps the absolute accuracy of its operands, and
        # torch's lerp uses an FMA where the fused SSE kernel rounds twice.
        floor = max(want.abs().max().item() * 0.1, 1e-30)
        rel = ((got.double() - want.double()).abs() / want.double().abs().clamp_min(floor)).max().item()
        print(f"  {name}: max relative error vs torch reference {rel:.3g}")
        ok = ok and rel < 1e-6
    print("python reference:", "ok" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
