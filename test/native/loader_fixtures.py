#!/usr/bin/env python3
"""Writes the fixtures of loader_test.cc with NumPy: .npy files (with the values NumPy reads back) and small
datasets in the exact on-disk layout of docs/algorithm.md §5.1-5.3. Usage: loader_fixtures.py <out_dir> [--bench]."""
import json
import os
import struct
import sys

import numpy as np


def save(path, arr, version=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if version is None:
        np.save(path, arr)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)


# ---------------------------------------------------------------------------------------------------------------
# .npy files: good ones with an expectation line each, and broken ones.

def write_npy_fixtures(out):
    d = os.path.join(out, "npy")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    lines = []

    def good(name, arr, version=None):
        save(os.path.join(d, name + ".npy"), arr, version)
        back = np.load(os.path.join(d, name + ".npy"))
        assert back.dtype == arr.dtype and back.shape == arr.shape
        vals = back.astype(np.int64).reshape(-1)  # u8 above int64 max wraps, like NpyArray::element
        lines.append(" ".join([name, back.dtype.str, str(back.ndim)] + [str(s) for s in back.shape] +
                              [str(v) for v in vals]))

    for dt in ["u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8"]:
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, size=(3, 5), dtype=dt, endpoint=True)
        a.reshape(-1)[0] = info.min
        a.reshape(-1)[1] = info.max
        good(f"{dt}_v1", a)
        good(f"{dt}_v2", a, (2, 0))
        good(f"{dt}_v3", a, (3, 0))
    good("b1_v1", np.array([[True, False, True], [False, False, True]]))
    good("scalar", np.array(7, dtype=np.int32))
    good("vec", np.arange(10, dtype=np.int32))
    good("cube", np.arange(24, dtype=np.int16).reshape(2, 3, 4) - 12)
    good("empty", np.zeros((0, 4), dtype=np.uint8))
    good("u8_vec", np.array([0, 5, 2**64 - 1], dtype=np.uint64))  # to_int64_vector must refuse the last
    # A column-major 1-D array has the bytes of C order; np.load accepts it, so must we.
    write_raw(os.path.join(d, "fortran_1d.npy"), "{'descr': '<i4', 'fortran_order': True, 'shape': (4,), }",
              np.arange(4, dtype="<i4").tobytes())
    lines.append("fortran_1d <i4 1 4 0 1 2 3")
    with open(os.path.join(d, "expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    # Broken files: each must raise trm::Error(DataFormat) naming the file.
    bad = os.path.join(out, "npy_bad")
    os.makedirs(bad, exist_ok=True)
    save(os.path.join(bad, "float.npy"), np.zeros((2, 2), np.float32))
    save(os.path.join(bad, "bigendian.npy"), np.arange(4, dtype=">i4"))
    save(os.path.join(bad, "fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)))
    save(os.path.join(bad, "structured.npy"), np.zeros(3, dtype=[("a", "<i4"), ("b", "u1")]))
    np.save(os.path.join(bad, "object.npy"), np.array([1, "x"], dtype=object), allow_pickle=True)
    good_bytes = open(os.path.join(d, "i4_v1.npy"), "rb").read()
    open(os.path.join(bad, "truncated_data.npy"), "wb").write(good_bytes[:-3])
    open(os.path.join(bad, "truncated_header.npy"), "wb").write(good_bytes[:40])
    open(os.path.join(bad, "short.npy"), "wb").write(good_bytes[:8])
    open(os.path.join(bad, "empty.npy"), "wb").write(b"")
    open(os.path.join(bad, "magic.npy"), "wb").write(b"\x93NUMPX" + good_bytes[6:])
    open(os.path.join(bad, "version.npy"), "wb").write(good_bytes[:6] + b"\x04\x00" + good_bytes[8:])
    open(os.path.join(bad, "garbage.npy"), "wb").write(bytes(rng.integers(0, 256, 300, dtype=np.uint8)))
    write_raw(os.path.join(bad, "extra_key.npy"), "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
              bytes(8))
    write_raw(os.path.join(bad, "no_shape.npy"), "{'descr': '<i4', 'fortran_order': False}", bytes(8))
    write_raw(os.path.join(bad, "bad_tuple.npy"), "{'descr': '<i4', 'fortran_order': False, 'shape': (2,-1), }",
              bytes(8))
    write_raw(os.path.join(bad, "bad_bool.npy"), "{'descr': '<i4', 'fortran_order': false, 'shape': (2,), }",
              bytes(8))
    write_raw(os.path.join(bad, "huge_shape.npy"),
              "{'descr': '<i8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", bytes(8))


def write_raw(path, header, payload):
    """A v1.0 file with a hand-written header (NumPy cannot produce the odd ones)."""
    h = header.encode("latin1")
    pad = 64 - (10 + len(h) + 1) % 64
    h = h + b" " * pad + b"\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + payload)


# ---------------------------------------------------------------------------------------------------------------
# Datasets. Row r of every set has inputs[r, 0] = r % 256 (identifies the row) and labels with zeros.

def write_split(root, split, groups, seq_len=4, meta_overrides=None, input_dtype=np.uint8, label_dtype=np.uint8,
                num_ids=None, set_name="all", drop_total_puzzles=False, ids=None, label_fn=None):
    """groups: list of groups, each a list of puzzle sizes (examples per puzzle)."""
    d = os.path.join(root, split)
    os.makedirs(d, exist_ok=True)
    puzzle_sizes = [s for g in groups for s in g]
    E = sum(puzzle_sizes)
    P = len(puzzle_sizes)
    rows = np.arange(E)
    inputs = (rows[:, None] + np.arange(seq_len)[None, :]) % 256
    labels = (rows[:, None] + np.arange(seq_len)[None, :]) % 5 if label_fn is None else label_fn(rows, seq_len)
    puzzle_indices = np.concatenate([[0], np.cumsum(puzzle_sizes)]).astype(np.int32)
    group_indices = np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.int32)
    pid = np.arange(1, P + 1, dtype=np.int32) if ids is None else np.asarray(ids, dtype=np.int32)
    save(os.path.join(d, f"{set_name}__inputs.npy"), inputs.astype(input_dtype))
    save(os.path.join(d, f"{set_name}__labels.npy"), labels.astype(label_dtype))
    save(os.path.join(d, f"{set_name}__puzzle_identifiers.npy"), pid)
    save(os.path.join(d, f"{set_name}__puzzle_indices.npy"), puzzle_indices)
    save(os.path.join(d, f"{set_name}__group_indices.npy"), group_indices)
    meta = dict(pad_id=1, ignore_label_id=0, blank_identifier_id=0, vocab_size=256, seq_len=seq_len,
                num_puzzle_identifiers=(P + 1 if num_ids is None else num_ids), total_groups=len(groups),
                mean_puzzle_examples=E / max(P, 1), total_puzzles=P, sets=[set_name])
    if drop_total_puzzles:
        del meta["total_puzzles"]
    meta.update(meta_overrides or {})
    with open(os.path.join(d, "dataset.json"), "w") as f:
        json.dump(meta, f)
    return d


UNEVEN_TRAIN = [[3, 3], [5], [2, 2, 2]]      # 3 groups; 10 rows per epoch when nothing is truncated
UNEVEN_TEST = [[3, 0], [5], [2]]             # 4 puzzles (one empty) and 10 examples in file order
UNIFORM3 = [[3, 3]] * 5                      # 5 groups of 2 puzzles of 3 examples


def write_datasets(out):
    ds = os.path.join(out, "ds")
    write_split(os.path.join(ds, "uneven"), "train", UNEVEN_TRAIN)
    write_split(os.path.join(ds, "uneven"), "test", UNEVEN_TEST, num_ids=7)
    write_split(os.path.join(ds, "uniform3"), "train", UNIFORM3)
    write_split(os.path.join(ds, "uniform3"), "test", UNIFORM3)
    # A second path for merging: same shape of metadata, another table size and other rows.
    write_split(os.path.join(ds, "uneven_b"), "train", [[1], [4, 4]], num_ids=20, ids=[5, 9, 19])
    write_split(os.path.join(ds, "uneven_b"), "test", [[2], [1]], num_ids=20, ids=[3, 4])
    # The same layout as uneven with an equal table size (parity mode accepts it).
    write_split(os.path.join(ds, "uneven_same"), "train", UNEVEN_TRAIN)
    write_split(os.path.join(ds, "mismatch_seq"), "train", UNEVEN_TRAIN, seq_len=6)
    write_split(os.path.join(ds, "mismatch_sets"), "train", UNEVEN_TRAIN, set_name="other")
    # uint16 inputs above 255, int64 labels with ignore_label_id 7.
    write_split(os.path.join(ds, "u16"), "train", [[2], [2]], seq_len=3, input_dtype=np.uint16, label_dtype=np.int64,
                meta_overrides=dict(vocab_size=1000, ignore_label_id=7, pad_id=2),
                label_fn=lambda r, s: np.array([[7, 300, 7], [1, 2, 3], [999, 7, 0], [4, 5, 6]]))
    d = os.path.join(ds, "u16", "train")
    save(os.path.join(d, "all__inputs.npy"), np.array([[600, 1, 2], [700, 3, 4], [800, 5, 6], [900, 7, 8]], np.uint16))
    # HRM metadata: no total_puzzles; ignore_label_id null (labels are kept as they are).
    write_split(os.path.join(ds, "hrm"), "train", UNEVEN_TRAIN, drop_total_puzzles=True,
                meta_overrides=dict(ignore_label_id=None, mean_puzzle_examples=10 / 6))

    # Broken datasets: each must fail to open with DataFormat.
    def broken(name, **kw):
        return write_split(os.path.join(ds, name), "train", UNEVEN_TRAIN, **kw)

    d = broken("bad_pi_start")
    save(os.path.join(d, "all__puzzle_indices.npy"), np.array([1, 3, 6, 11, 13, 15, 17], np.int32))
    d = broken("bad_pi_order")
    save(os.path.join(d, "all__puzzle_indices.npy"), np.array([0, 3, 2, 11, 13, 15, 17], np.int32))
    d = broken("bad_pi_last")
    save(os.path.join(d, "all__puzzle_indices.npy"), np.array([0, 3, 6, 11, 13, 15, 16], np.int32))
    d = broken("bad_pi_len")
    save(os.path.join(d, "all__puzzle_indices.npy"), np.array([0, 3, 6, 11, 13, 17], np.int32))
    d = broken("bad_gi_empty")
    save(os.path.join(d, "all__group_indices.npy"), np.array([0, 2, 2, 3, 6], np.int32))
    d = broken("bad_gi_last")
    save(os.path.join(d, "all__group_indices.npy"), np.array([0, 2, 3, 5], np.int32))
    d = broken("bad_labels_shape")
    save(os.path.join(d, "all__labels.npy"), np.zeros((16, 4), np.uint8))
    broken("bad_seq_len", meta_overrides=dict(seq_len=5))
    broken("bad_id_range", ids=[1, 2, 3, 4, 5, 7])
    d = broken("bad_float_inputs")
    save(os.path.join(d, "all__inputs.npy"), np.zeros((17, 4), np.float32))
    d = broken("bad_json")
    open(os.path.join(d, "dataset.json"), "w").write('{"pad_id": 0, ')
    d = broken("bad_json_key")
    m = json.load(open(os.path.join(d, "dataset.json")))
    del m["vocab_size"]
    json.dump(m, open(os.path.join(d, "dataset.json"), "w"))
    d = broken("bad_wide_tokens", input_dtype=np.int64)
    a = np.load(os.path.join(d, "all__inputs.npy"))
    a[:, 2] = 2**40  # every row, so the first batch meets it
    save(os.path.join(d, "all__inputs.npy"), a)
    # int16 labels: ignore_label_id -100 is allowed outside [0, vocab_size), -5 in row 3 is not.
    broken("ok_negative_ignore", label_dtype=np.int16, meta_overrides=dict(ignore_label_id=-100),
           label_fn=lambda r, s: np.where((r[:, None] + np.arange(s)[None, :]) % 3 == 0, -100, 1))
    broken("bad_label_token", label_dtype=np.int16, meta_overrides=dict(ignore_label_id=-100),
           label_fn=lambda r, s: np.where(r[:, None] == 3, -5, np.where(np.arange(s)[None, :] == 0, -100, 1)))
    d = broken("missing_array")
    os.remove(os.path.join(d, "all__group_indices.npy"))


def write_bench(out, examples=40000, seq_len=900):
    """An ARC-sized set: uint8 rows of 900 tokens, puzzles of 3-5 examples, groups of 1-8 puzzles."""
    rng = np.random.default_rng(1)
    d = os.path.join(out, "bench", "train")
    os.makedirs(d, exist_ok=True)
    sizes = []
    total = 0
    while total < examples:
        s = int(rng.integers(3, 6))
        sizes.append(s)
        total += s
    P = len(sizes)
    cuts = [0]
    while cuts[-1] < P:
        cuts.append(min(P, cuts[-1] + int(rng.integers(1, 9))))
    inputs = rng.integers(0, 12, size=(total, seq_len), dtype=np.uint8)
    np.save(os.path.join(d, "all__inputs.npy"), inputs)
    np.save(os.path.join(d, "all__labels.npy"), inputs)
    np.save(os.path.join(d, "all__puzzle_identifiers.npy"), np.arange(1, P + 1, dtype=np.int32))
    np.save(os.path.join(d, "all__puzzle_indices.npy"), np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32))
    np.save(os.path.join(d, "all__group_indices.npy"), np.array(cuts, np.int32))
    json.dump(dict(pad_id=0, ignore_label_id=0, blank_identifier_id=0, vocab_size=12, seq_len=seq_len,
                   num_puzzle_identifiers=P + 1, total_groups=len(cuts) - 1, mean_puzzle_examples=total / P,
                   total_puzzles=P, sets=["all"]), open(os.path.join(d, "dataset.json"), "w"))


if __name__ == "__main__":
    out = sys.argv[1]
    write_npy_fixtures(out)
    write_datasets(out)
    if "--bench" in sys.argv:
        write_bench(out)
