#!/usr/bin/env bash
# Upload benchmark: our client (hash + archive + upload, then start) vs
# `tar -c DIR | pigz -p 2 | curl -T - URL`, on the mkctx.sh trees, against the loopback server.
# Also: all three trees as one template, and N templates built concurrently through one client.
# Usage: bench/upload.sh [CTX_DIR] [RUNS]   (CTX_DIR defaults to /tmp/cloud-bench/ctx, made if missing)
# Needs: hyperfine, pigz, curl, GNU time. Results: Markdown tables on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
CTX="${1:-/tmp/cloud-bench/ctx}"
RUNS="${2:-3}"
PORT="${PORT:-18790}"
URL="http://127.0.0.1:$PORT"

[ -d "$CTX/few-large" ] || bash "${MKCTX:-bench/mkctx.sh}" "$CTX" >/dev/null
BIN=$(cargo bench -p sandbox-template-server --bench upload --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "upload" and m.get("executable"): print(m["executable"])' | tail -1)
"$BIN" serve "$PORT" >/dev/null &
SERVER=$!
trap 'kill $SERVER' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "$URL/" && break; sleep 0.1; done

TID=$(curl -s -H 'X-API-KEY: bench-key' -H 'content-type: application/json' -d '{"name":"baseline"}' "$URL/v3/templates" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["templateID"])')
# Upload URLs are signed by the server: ask for one, as a client does.
PUT=$(curl -s -H 'X-API-KEY: bench-key' "$URL/templates/$TID/files/$(printf 'c%.0s' $(seq 64))" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')

echo "| context | ours (s) | tar \\| pigz -p 2 \\| curl (s) | ratio | our peak RSS |"
echo "|---|---|---|---|---|"
row() { # name, ctx dir, our SRC list, tar paths
  local name=$1 dir=$2 src=$3; shift 3
  hyperfine -N --runs "$RUNS" --warmup 1 --export-json /tmp/upload-bench.json \
    "$BIN build $URL $dir $src" \
    "sh -c 'tar -C $dir -c $* | pigz -p 2 | curl -s -f -T - $PUT'" >/dev/null
  local rss
  rss=$( { /usr/bin/time -f '%M' "$BIN" build "$URL" "$dir" "$src" 2>&1 >/dev/null; } | tail -1)
  python3 - "$name" "$rss" <<'PY'
import json, sys
r = json.load(open('/tmp/upload-bench.json'))['results']
ours, base = r[0]['median'], r[1]['median']
print(f"| {sys.argv[1]} | {ours:.2f} | {base:.2f} | {ours / base:.2f} | {int(sys.argv[2]) / 1024:.1f} MiB |")
PY
}
for c in many-small node_modules-like few-large; do row "$c" "$CTX/$c" data data; done
row "all three (700 MB, 3 COPY steps)" "$CTX" "many-small/data,node_modules-like/data,few-large/data" \
  many-small/data node_modules-like/data few-large/data

N="${CONCURRENT:-50}"
echo
echo "| $N templates built concurrently (one client, ≤32 requests in flight) | wall (s) | peak RSS |"
echo "|---|---|---|"
out=$( { /usr/bin/time -f '%e %M' "$BIN" many "$URL" "$CTX/tiny" data "$N" 2>&1 >/dev/null; } | tail -1)
echo "| tiny context, full build each (create, upload, start, poll to ready) | ${out% *} | $(( ${out#* } / 1024 )) MiB |"
