#!/usr/bin/env bash
# Writes the folder scripts/gpu-check.sh runs from on a GPU machine that has no Node.js, npm or network
# (docs/distributed.md): this machine's node binary (stripped, xz), and app.tar.xz with the compiled
# dist/cjs, the native sources and CMake files, the few runtime node_modules (bindings, yaml, N-API
# headers), the check script, the official parity fixtures and a tiny ARC dataset built here.
#   scripts/gpu-bundle.sh [--out DIR] [--official DIR [--harness DIR]] [--wheels DIR]
# --official DIR: a checkout of the official TinyRecursiveModels code (its models/ folder goes in) with
#   the timing harness official_train_step.py (--harness, default bench/official-harness); --wheels DIR:
#   Python wheels that machine lacks for it (pydantic and its dependencies; see docs/distributed.md).
# The folder (default gpu-bundle/, ignored by git) must stay under 50 MB; nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=gpu-bundle
OFFICIAL=""
HARNESS=bench/official-harness
WHEELS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --official) OFFICIAL=$(cd "$2" && pwd); shift 2 ;;
    --harness) HARNESS=$2; shift 2 ;;
    --wheels) WHEELS=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: scripts/gpu-bundle.sh [--out DIR] [--official DIR [--harness DIR]] [--wheels DIR]" >&2; exit 2 ;;
  esac
done
first_dir() { for d in "$@"; do [ -d "$d" ] && { echo "$d"; return; }; done; echo "gpu-bundle: none of $* exists" >&2; exit 1; }
PARITY=$(first_dir test/fixtures/parity)
ARC_SRC=$(first_dir test/fixtures/arc-agi-1)

echo "gpu-bundle: compiling the TypeScript layer"
node scripts/build-ts.js >/dev/null

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"

echo "gpu-bundle: node $(node --version) (stripped, xz)"
cp "$(command -v node)" "$STAGE/node"
strip "$STAGE/node" 2>/dev/null || true
xz -T0 -6 -c "$STAGE/node" >"$OUT/node.xz"

APP=$STAGE/app
mkdir -p "$APP/dist" "$APP/scripts" "$APP/test/native" "$APP/node_modules"
cp -r package.json CMakeLists.txt cmake native "$APP/"
cp -r dist/cjs "$APP/dist/"
cp scripts/gpu-check.js "$APP/scripts/"
cp test/native/adam_atan2_devices.cc "$APP/test/native/"
for m in bindings file-uri-to-path yaml node-addon-api node-api-headers; do cp -r "node_modules/$m" "$APP/node_modules/"; done

echo "gpu-bundle: fixtures (parity from $PARITY, a tiny ARC dataset from $ARC_SRC)"
mkdir -p "$STAGE/fixtures"
cp -r "$PARITY" "$STAGE/fixtures/parity"
node -e '
  const fs = require("fs"), path = require("path");
  const { buildArc } = require(path.resolve("dist/cjs/data/arc.js"));
  const [src, out] = process.argv.slice(1);
  const tasks = { training: ["007bbfb7", "00d62c1b", "017c7c7b"], evaluation: ["025d127b", "045e512c", "0520fde7"] };
  const tmp = fs.mkdtempSync(path.join(require("os").tmpdir(), "arc-src-"));
  for (const [subset, ids] of Object.entries(tasks)) {
    fs.mkdirSync(path.join(tmp, subset), { recursive: true });
    for (const id of ids) fs.copyFileSync(path.join(src, "training", id + ".json"), path.join(tmp, subset, id + ".json"));
  }
  buildArc({ inputDir: tmp, outputDir: out, subsets: ["training", "evaluation"], testSetName: "evaluation", numAug: 2, seed: 42 })
    .then(() => fs.rmSync(tmp, { recursive: true, force: true }));
' "$ARC_SRC" "$STAGE/fixtures/arc"

PARTS=(app fixtures)
if [ -n "$OFFICIAL" ]; then
  echo "gpu-bundle: the official code from $OFFICIAL and the timing harness"
  mkdir -p "$STAGE/official" "$STAGE/bench-official"
  cp -r "$OFFICIAL/models" "$STAGE/official/"
  [ ! -f "$OFFICIAL/LICENSE" ] || cp "$OFFICIAL/LICENSE" "$STAGE/official/"
  cp "$(first_dir "$HARNESS")"/official_train_step.py "$STAGE/bench-official/"
  PARTS+=(official bench-official)
fi
tar -C "$STAGE" -cJf "$OUT/app.tar.xz" "${PARTS[@]}"
if [ -n "$WHEELS" ]; then
  mkdir -p "$OUT/wheels"
  cp "$WHEELS"/*.whl "$OUT/wheels/"
fi

cat >"$OUT/MANIFEST.json" <<EOF
{
  "commit": "$(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+changes')",
  "created": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "node": "$(node --version)",
  "official": $([ -n "$OFFICIAL" ] && echo true || echo false),
  "wheels": [$( [ -n "$WHEELS" ] && ls "$WHEELS"/*.whl | xargs -n1 basename | sed 's/.*/"&"/' | paste -sd, - )]
}
EOF
bytes=$(du -sb "$OUT" | cut -f1)
echo "gpu-bundle: wrote $OUT ($(( bytes / 1024 / 1024 )) MB)"
if [ "$bytes" -gt $(( 50 * 1024 * 1024 )) ]; then
  echo "gpu-bundle: $OUT is over 50 MB" >&2
  exit 1
fi
