#!/usr/bin/env bash
# Side-by-side timings of build-context preparation (see README.md).
# usage: bench/run.sh CTXROOT [OUTDIR]    env: RUNS (default 5), SLOW_RUNS (default 3), TREES
set -euo pipefail
ROOT=${1:?usage: run.sh CTXROOT [OUTDIR]}
OUT=${2:-/tmp/context-bench-out}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${CONTEXT_BENCH:-${CARGO_TARGET_DIR:-$HERE/../target}/release/examples/context_bench}
export E2B_NODE_MODULES=${E2B_NODE_MODULES:-/tmp/e2bjs/node_modules}
export E2B_PY_SITE=${E2B_PY_SITE:-/tmp/e2bpy}
RUNS=${RUNS:-5}
SLOW_RUNS=${SLOW_RUNS:-3}
TREES=${TREES:-many-small node_modules-like few-large}
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

rss() { # label, command...: peak RSS (MB) of one run
  local label=$1; shift
  /usr/bin/time -v "$@" > /dev/null 2> "$TMP/time.txt" || { echo "$label FAILED"; cat "$TMP/time.txt"; return 0; }
  awk -v l="$label" '/Maximum resident set size/ {printf "%s\t%.1f MB\n", l, $6/1024}' "$TMP/time.txt"
}

for t in $TREES; do
  C=$ROOT/$t
  find "$C/data" -type f | LC_ALL=C sort > "$TMP/$t.files"
  cat "$TMP/$t.files" | xargs cat > /dev/null   # warm the page cache
  echo "== $t"
  hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/$t-hash.json" --export-markdown "$OUT/$t-hash.md" \
    -n "ours: enumerate+hash" "$BIN hash $C data" \
    -n "JS Template.toJSON" "node $HERE/sdk/js_hash.js $C" \
    -n "Python Template.to_json" "python3 $HERE/sdk/py_hash.py $C" \
    -n "cat FILES | openssl dgst -sha256" "sh -c 'xargs cat < $TMP/$t.files | openssl dgst -sha256'"
  hyperfine -N --warmup 1 --runs "$SLOW_RUNS" --export-json "$OUT/$t-tar.json" --export-markdown "$OUT/$t-tar.md" \
    -n "ours: tar.gz" "$BIN tar $C data $TMP/ours.tgz" \
    -n "JS tar.gz spooling" "node $HERE/sdk/js_tar.js $C" \
    -n "Python tar.gz" "python3 $HERE/sdk/py_tar.py $C" \
    -n "tar -c | pigz -p 2" "sh -c 'tar -C $C -c data | pigz -p 2 > $TMP/pigz.tgz'"
  {
    rss "$t ours hash" "$BIN" hash "$C" data
    rss "$t ours tar.gz" "$BIN" tar "$C" data "$TMP/ours.tgz"
    rss "$t JS hash" node "$HERE/sdk/js_hash.js" "$C"
    rss "$t JS tar.gz" node "$HERE/sdk/js_tar.js" "$C"
    rss "$t pigz (pigz only)" sh -c "tar -C $C -c data | pigz -p 2 > $TMP/pigz.tgz"
    echo -e "$t sizes\tours $(stat -c %s "$TMP/ours.tgz") B, pigz -6 $(stat -c %s "$TMP/pigz.tgz") B"
  } | tee "$OUT/$t-rss.txt"
done
