#!/usr/bin/env bash
# Public search benchmark: 500,000 demo institutions, on SQLite and on PostgreSQL.
#
#   bench/search.sh [INSTITUTIONS] [DURATION]      defaults: 500000 30s
#
# Seeds each database once (kept under bench/work/ and in PostgreSQL database xiaowai_bench between runs),
# runs `xiaowai serve` (release build) and drives it with wrk from this machine (a second process on loopback,
# so client and server share the 2 cores). Results go to bench/results/search-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500000}"
DURATION="${2:-30s}"
CONNECTIONS="${CONNECTIONS:-32}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_URL="${PG_ADMIN%/*}/xiaowai_bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xiaowai-target}"
BIN="$CARGO_TARGET_DIR/release/xiaowai"
WORK="bench/work"
OUT="bench/results/search-$(date -u +%Y-%m-%d).md"
mkdir -p "$WORK" bench/results
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

cargo build --release --bin xiaowai

seed() { # backend data_dir [url]
  local marker="$2/seeded-$N"
  [[ -f "$marker" ]] && return
  local args=(--data-dir "$2")
  [[ -n "${3:-}" ]] && args+=(--database-url "$3")
  local start=$SECONDS
  "$BIN" demo --institutions "$N" "${args[@]}"
  echo "$((SECONDS - start))" > "$marker"
}

run() { # backend data_dir [url]
  local args=(--data-dir "$2" --listen 127.0.0.1:18099 --log-format json)
  [[ -n "${3:-}" ]] && args+=(--database-url "$3")
  XIAOWAI_LOG=warn "$BIN" serve "${args[@]}" > "$WORK/serve-$1.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do curl -sf http://127.0.0.1:18099/healthz >/dev/null && break; sleep 1; done
  local total
  total=$(curl -s 'http://127.0.0.1:18099/api/v1/public/institutions?per_page=1' | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
  wrk -t2 -c4 -d5s -s bench/search.lua http://127.0.0.1:18099 > /dev/null   # warm-up
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/search.lua http://127.0.0.1:18099 > "$WORK/wrk-$1.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk-$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk-$1.txt")
  errors=$(grep -E 'Non-2xx|Socket errors' "$WORK/wrk-$1.txt" | tr '\n' ' ' || true)
  echo "| $1 | $total | $(cat "$2/seeded-$N")s | $rps | $p50 | $p99 | ${errors:-none} |" >> "$OUT.rows"
}

rm -f "$OUT.rows"
seed sqlite "$WORK/sqlite"
run sqlite "$WORK/sqlite"
psql "$PG_ADMIN" -qtc "SELECT 1 FROM pg_database WHERE datname = 'xiaowai_bench'" | grep -q 1 \
  || psql "$PG_ADMIN" -qc "CREATE DATABASE xiaowai_bench"
seed postgres "$WORK/postgres" "$PG_URL"
run postgres "$WORK/postgres" "$PG_URL"

{
  echo "# Public search benchmark, $(date -u +%Y-%m-%d)"
  echo
  echo "- Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr)"
  echo "- Build: \`cargo build --release\`, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- Load: wrk, 2 threads, $CONNECTIONS connections, $DURATION after a 5 s warm-up, on the same machine"
  echo "- Mix: the 16 requests of \`bench/search.lua\` in rotation (keywords, region drill-downs, filters, paging)"
  echo
  echo "| backend | institutions | seeding | requests/s | p50 | p99 | errors |"
  echo "|---|---|---|---|---|---|---|"
  cat "$OUT.rows"
  echo
  echo "Raw wrk output: bench/work/wrk-*.txt (not committed)."
} > "$OUT"
rm -f "$OUT.rows"
cat "$OUT"
