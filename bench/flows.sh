#!/usr/bin/env bash
# Flow rate and RSS of `sandbox-template serve` (release build, `--engine none`, a fresh data
# folder): hyperfine over N create/upload/build/poll flows, CONCURRENCY at a time
# (`template-server/benches/flows.rs`), then the server's VmRSS before and after POLLS status polls (two rounds).
# Usage: bench/flows.sh [RUNS] [N] [CONCURRENCY] [POLLS]   (defaults 5 200 50 10000)
# Needs: hyperfine, curl. Results on stdout; the server's data folder is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"; N="${2:-200}"; CONC="${3:-50}"; POLLS="${4:-10000}"
PORT="${PORT:-18791}"
URL="http://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/flows-bench.XXXXXX)
mkdir -p "$WORK/ctx/data"
echo "hello from the flow benchmark" > "$WORK/ctx/data/hello.txt"

# SERVE and BIN may name prebuilt binaries (e.g. of an older commit, to compare).
if [ -z "${SERVE:-}" ]; then cargo build --release -q -p sandbox-template-cli; SERVE=target/release/sandbox-template; fi
[ -n "${BIN:-}" ] || BIN=$(cargo bench -p sandbox-template-server --bench flows --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "flows" and m.get("executable"): print(m["executable"])' | tail -1)

SANDBOX_TEMPLATE_API_KEY=bench-key "$SERVE" serve --engine none --data "$WORK/data" --addr "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "$URL/" && break; sleep 0.1; done
echo "server VmRSS at start: $(grep VmRSS /proc/$SERVER/status)"

hyperfine -N --runs "$RUNS" --warmup 1 "$BIN run $URL $WORK/ctx $N $CONC"
echo "server VmRSS after $(( (RUNS + 1) * N )) flows: $(grep VmRSS /proc/$SERVER/status)"
# Twice: growth in the first round that stops in the second is warm-up (caches, thread
# arenas), growth in both is a leak.
FLOWS_CTX="$WORK/ctx" "$BIN" polls "$URL" "$SERVER" "$POLLS"
FLOWS_CTX="$WORK/ctx" "$BIN" polls "$URL" "$SERVER" "$POLLS"
du -sh "$WORK/data"
