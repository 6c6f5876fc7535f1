#!/usr/bin/env bash
# Our torch.save zip reader against LibTorch's PyTorchStreamReader (bench/zip-reader.cc): load time and
# peak RSS on a checkpoint holding a 1.8 GB puzzle table (876,406 x 512 float32, the ARC-1 table), each
# mode in its own process with a warm page cache (best of 3), and N hostile mutations of a small checkpoint
# per reader. Prints a table and writes bench/results/zip-reader.json.
#   bash bench/zip-reader.sh [N hostile cases, default 400]
# Env: PYTHON (python3 with torch), TRM_BENCH_DIR (where the 1.8 GB file is written, default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-400}
PY=${PYTHON:-python3}
DIR=${TRM_BENCH_DIR:-/tmp}/trm-zip-reader-bench
mkdir -p "$DIR"
node scripts/native-tests.js --configure-only
cmake --build build/native-tests --parallel "${TRM_BUILD_JOBS:-2}" --target zip_reader_bench
BIN=build/native-tests/zip_reader_bench

if [ ! -f "$DIR/step_big" ]; then
  "$PY" - "$DIR" <<'PYEOF'
import collections, sys, torch
d = sys.argv[1]
sd = collections.OrderedDict()
sd['_orig_mod.model.inner.puzzle_emb.weights'] = torch.full((876406, 512), 0.25)
sd['_orig_mod.model.inner.embed_tokens.embedding_weight'] = torch.randn(12, 512)
sd['_orig_mod.model.inner.lm_head.weight'] = torch.randn(12, 512)
for i in range(2):
    sd[f'_orig_mod.model.inner.L_level.layers.{i}.mlp.gate_up_proj.weight'] = torch.randn(3072, 512)
torch.save(sd, f'{d}/step_big')
small = collections.OrderedDict((k, v if v.numel() < 10**6 else torch.randn(64, 512)) for k, v in sd.items())
torch.save(small, f'{d}/step_small')
PYEOF
fi

best() {  # best of 3 runs of one load mode (fewest seconds)
  for _ in 1 2 3; do "$BIN" load "$1" "$DIR/step_big"; done | "$PY" -c '
import json, sys
runs = [json.loads(l) for l in sys.stdin]
print(json.dumps(min(runs, key=lambda r: r["seconds"])))'
}
LOAD=$(for m in ours ours-no-crc stream stream-mmap; do best "$m"; done)
HOSTILE=$(for m in ours stream stream-mmap; do "$BIN" hostile "$m" "$DIR/step_small" "$N" 1; done)
"$PY" - "$LOAD" "$HOSTILE" "$(uptime)" "$(stat -L -c %s "$DIR/step_big")" <<'PYEOF'
import json, sys
load = [json.loads(l) for l in sys.argv[1].splitlines()]
hostile = [json.loads(l) for l in sys.argv[2].splitlines()]
print(f"load of a {int(sys.argv[4]) / 1e9:.2f} GB torch.save file (every storage copied into new tensors; best of 3, warm cache)")
print(f"{'reader':<12}{'seconds':>9}{'peak RSS MiB':>14}{'peak anon MiB':>15}")
for r in load:
    print(f"{r['mode']:<12}{r['seconds']:>9.2f}{r['peak_rss_mib']:>14.0f}{r['peak_anon_mib']:>15.0f}")
print(f"\nhostile mutations of a small checkpoint")
print(f"{'reader':<12}{'cases':>7}{'loaded':>8}{'wrong bytes':>13}{'typed':>7}{'untyped':>9}{'crashed':>9}{'hung':>6}")
for r in hostile:
    print(f"{r['mode']:<12}{r['cases']:>7}{r['loaded']:>8}{r['loaded_wrong_bytes']:>13}{r['typed']:>7}{r['untyped']:>9}{r['crashed']:>9}{r['hung']:>6}")
json.dump({'file_bytes': int(sys.argv[4]), 'uptime': sys.argv[3].strip(), 'load': load, 'hostile': hostile},
          open('bench/results/zip-reader.json', 'w'), indent=2)
print('\nwrote bench/results/zip-reader.json')
PYEOF
