#!/usr/bin/env bash
# The GPU check end to end on a machine without a GPU: the bundle of scripts/gpu-bundle.sh and
# scripts/gpu-check.sh copied into an empty folder (no repository, no node_modules), run with --cpu where
# the system's node and npm fail if called and, where an unprivileged network namespace is allowed,
# with no network but loopback. Then report.json must list every check, each passed. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/gpu-bundle.sh

DIR=$(mktemp -d "${TMPDIR:-/tmp}/trm-gpu-check-cpu.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/scripts" "$DIR/fakebin"
cp scripts/gpu-check.sh "$DIR/scripts/"
cp -r gpu-bundle "$DIR/"
for tool in node npm npx; do
  printf '#!/bin/sh\necho "the system %s must not be needed" >&2\nexit 97\n' "$tool" >"$DIR/fakebin/$tool"
  chmod +x "$DIR/fakebin/$tool"
done

run="cd '$DIR' && PATH='$DIR/fakebin':\$PATH bash scripts/gpu-check.sh --cpu '$DIR/out'"
if unshare -rn sh -c 'ip link set lo up' 2>/dev/null; then
  echo "gpu-check-cpu: no network (a network namespace with loopback only)"
  unshare -rn sh -c "ip link set lo up && $run"
else
  echo "gpu-check-cpu: no unprivileged network namespace here; running with the network present"
  sh -c "$run"
fi

python3 - "$DIR/out/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
names = [c["name"] for c in r["checks"]]
want = ["adam_atan2_kernels", "parity_tiny-att", "parity_tiny-baseline", "parity_tiny-hier6", "parity_tiny-hrm",
        "parity_tiny-mlp", "parity_tiny-singlez", "train_world1_process_group", "train_two_ranks_gloo", "arc_evaluator_in_training",
        "speed_sudoku-mlp", "speed_arc-att-reduced"]
missing = [n for n in want if n not in names]
failed = [c["name"] + ": " + c.get("error", c.get("skipped", "out of bounds")) for c in r["checks"] if not c["ok"]]
print(f"gpu-check-cpu: {len(names)} checks, build {r.get('build_seconds')} s, total {r.get('total_seconds')} s")
if missing or failed or not r["ok"]:
    sys.exit(f"gpu-check-cpu: missing {missing}, failed {failed}")
print("gpu-check-cpu: ok")
EOF
