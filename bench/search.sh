#!/usr/bin/env bash
# Public search benchmark: 500,000 demo institutions, on SQLite and on PostgreSQL.
#
#   bench/search.sh [INSTITUTIONS] [DURATION] [RUNS]      defaults: 500000 20s 3
#
# Seeds each database once (kept under bench/work/ and in PostgreSQL database xiaowai_bench between runs),
# runs `xiaowai serve` (release build) and drives it with wrk from this machine (a second process on loopback,
# so client and server share the 2 cores), RUNS times; the median run is reported beside all runs, because
# runs on this machine differ by up to ±10%. Results go to bench/results/search-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500000}"
DURATION="${2:-20s}"
RUNS="${3:-3}"
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
  local k
  for k in $(seq 1 "$RUNS"); do
    wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/search.lua http://127.0.0.1:18099 > "$WORK/wrk-$1-$k.txt"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  # One line per run: requests/s p50 p99 file; the median run by requests/s is reported.
  local runs median rps p50 p99 errors all
  runs=$(for k in $(seq 1 "$RUNS"); do
    f="$WORK/wrk-$1-$k.txt"
    echo "$(awk '/Requests\/sec/ {print $2}' "$f") $(awk '$1=="50%" {print $2}' "$f") $(awk '$1=="99%" {print $2}' "$f") $f"
  done | sort -n)
  median=$(echo "$runs" | sed -n "$(( (RUNS + 1) / 2 ))p")
  read -r rps p50 p99 _ <<< "$median"
  all=$(echo "$runs" | awk '{printf "%s%s", sep, $1; sep=" / "}')
  errors=$(grep -hE 'Non-2xx|Socket errors' "$WORK"/wrk-"$1"-*.txt | sort -u | tr '\n' ' ' || true)
  echo "| $1 | $total | $(cat "$2/seeded-$N")s | $rps | $p50 | $p99 | $all | ${errors:-none} |" >> "$OUT.rows"
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
  echo "- Load: wrk, 2 threads, $CONNECTIONS connections, $RUNS runs of $DURATION after a 5 s warm-up, on the same machine"
  echo "- Mix: the 16 requests of \`bench/search.lua\` in rotation (keywords, region drill-downs, filters, paging)"
  echo
  echo "| backend | institutions | seeding | requests/s (median run) | p50 | p99 | requests/s, every run | errors |"
  echo "|---|---|---|---|---|---|---|---|"
  cat "$OUT.rows"
  echo
  echo "Raw wrk output: bench/work/wrk-<backend>-<run>.txt (not committed)."
} > "$OUT"
rm -f "$OUT.rows"
cat "$OUT"
