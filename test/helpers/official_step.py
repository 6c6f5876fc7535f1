#!/usr/bin/env python3
"""One optimizer step of the official trainer on a parity case, from the official gradients.

Usage: python3 official_step.py CASE_DIR OUT_DIR

Starts from the case's step_0 weights and the gradient the official code computed
(expected/grad/*.npy, of the loss not yet divided by the batch), and applies what pretrain.py's
train_batch does at step 1: scale by 1 / global_batch_size, lr from
cosine_schedule_with_warmup_lr_lambda, sign-SGD on the batch's puzzle rows
(models/sparse_embedding.py: duplicate ids summed, decay of those rows only) and Adam-atan2 on every
other parameter (sapientinc/adam-atan2 0.0.3, what `pip install adam-atan2` gives: decoupled decay,
lerp moments, then p -= lr / (1 - β1^t) · atan2(m, sqrt(v) / sqrt(1 - β2^t)), as the reference
implementation in its adam_atan2_test.py). Writes OUT_DIR/<name>.npy for every updated tensor (official names without the
`_orig_mod.model.inner.` prefix) and OUT_DIR/lr.json.
"""
import json
import math
import os
import re
import sys

import numpy as np
import torch


def top_level_scalars(path):
    """The `key: number` lines at the top level of all_config.yaml (no YAML library needed)."""
    out = {}
    for line in open(path):
        m = re.match(r"^(\w+): ([-+0-9.eE]+)\s*$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def lr_at(step, base_lr, warmup, total, min_ratio):
    # pretrain.py cosine_schedule_with_warmup_lr_lambda (num_cycles 0.5)
    if step < warmup:
        return base_lr * float(step) / float(max(1, warmup))
    progress = float(step - warmup) / float(max(1, total - warmup))
    return base_lr * (min_ratio + max(0.0, (1 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress))))


def main(case, out):
    cfg = top_level_scalars(os.path.join(case, "all_config.yaml"))
    meta = json.load(open(os.path.join(case, "data", "train", "dataset.json")))
    B = int(cfg["global_batch_size"])
    total = int(cfg["epochs"] * meta["total_groups"] * meta["mean_puzzle_examples"] / B)
    lr = lr_at(1, cfg["lr"], round(cfg["lr_warmup_steps"]), total, cfg["lr_min_ratio"])
    puzzle_lr = lr_at(1, cfg["puzzle_emb_lr"], round(cfg["lr_warmup_steps"]), total, cfg["lr_min_ratio"])
    b1, b2, wd = cfg["beta1"], cfg["beta2"], cfg["weight_decay"]

    state = torch.load(os.path.join(case, "step_0"), map_location="cpu")
    prefix = "_orig_mod.model.inner."
    names = json.load(open(os.path.join(case, "expected", "train_step.json")))["grads"]
    grad = {n: torch.from_numpy(np.load(os.path.join(case, "expected", "grad", n + ".npy"))) / B for n in names}
    os.makedirs(out, exist_ok=True)

    t = 1
    for n in names:
        if not n.startswith("model.inner."):
            continue
        p = state[prefix + n[len("model.inner."):]].clone().float()
        g = grad[n]
        m = torch.zeros_like(p).lerp_(g, 1 - b1)
        v = torch.zeros_like(p).lerp_(g.square(), 1 - b2)
        p.mul_(1 - lr * wd)
        p.add_(torch.atan2(m, v.sqrt() / math.sqrt(1 - b2 ** t)), alpha=-(lr / (1 - b1 ** t)))
        np.save(os.path.join(out, n[len("model.inner."):] + ".npy"), p.numpy())

    weights = state[prefix + "puzzle_emb.weights"].clone().float()
    ids = torch.from_numpy(np.load(os.path.join(case, "puzzle_identifiers.npy"))).long()
    local_grad = grad["puzzle_emb.local_weights"]
    grad_ids, inv = ids.unique(return_inverse=True)
    summed = torch.zeros((grad_ids.shape[0], weights.shape[1])).scatter_add_(0, inv.unsqueeze(-1).expand(-1, weights.shape[1]), local_grad)
    rows = weights[grad_ids]
    rows.mul_(1.0 - puzzle_lr * cfg["puzzle_emb_weight_decay"]).add_(torch.sign(summed), alpha=-puzzle_lr)
    weights[grad_ids] = rows
    np.save(os.path.join(out, "puzzle_emb.weights.npy"), weights.numpy())
    json.dump({"lr": lr, "puzzle_lr": puzzle_lr, "total_steps": total}, open(os.path.join(out, "lr.json"), "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
