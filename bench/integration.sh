#!/usr/bin/env bash
# The integration API under load, as a provider's adapter uses it (examples/integrator `load`), on SQLite and
# on PostgreSQL:
#
#   bench/integration.sh [REQUESTS] [CONCURRENCY]   defaults: 1000 16
#
# For each backend `xiaowai serve --sandbox` (release build, 200 demo institutions, the per-integrator quota
# lifted) runs on a fresh database; the example adapter, as the demo integrator, then (1) syncs REQUESTS
# courses (signed POSTs under idempotency keys, each checked against the region's policy, published and
# audited), (2) places REQUESTS orders for the demo parent (parent and child found by blind index, the
# contract written and digested), (3) has the demo bank pay each order through the bank API while its own
# receiver times every `order.paid` webhook from the bank's acknowledgement to its arrival (the platform's
# worker dispatches from the audit log every half second, then delivers signed). Client, server and
# PostgreSQL share this machine's cores. Results go to bench/results/integration-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${1:-1000}"
CONCURRENCY="${2:-16}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
DB=xiaowai_integration_bench
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xiaowai-target}"
BIN="$CARGO_TARGET_DIR/release"
WORK="bench/work/integration"
OUT="bench/results/integration-$(date -u +%Y-%m-%d).md"
PORT=18098
KEY=xwk_demo_integrator
SECRET=demo-integrator-secret-0123456789

cargo build --release --bin xiaowai --bin example-integrator
rm -rf "$WORK" && mkdir -p "$WORK" bench/results

run() { # backend database-url-or-empty
  local backend=$1 url=$2 dir="$WORK/$1"
  mkdir -p "$dir"
  local db_args=()
  if [[ -n "$url" ]]; then db_args=(--database-url "$url"); fi
  XIAOWAI_LOG=warn "$BIN/xiaowai" serve --sandbox --demo-institutions 200 "${db_args[@]}" --data-dir "$dir" \
    --listen "127.0.0.1:$PORT" --integration-per-minute 100000000 > "$dir/serve.log" 2>&1 &
  local server=$!
  trap 'kill '"$server"' 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
  local institution
  institution=$("$BIN/example-integrator" grants --platform "http://127.0.0.1:$PORT" --key-id "$KEY" --secret "$SECRET")
  "$BIN/example-integrator" load --platform "http://127.0.0.1:$PORT" --key-id "$KEY" --secret "$SECRET" \
    --institution "$institution" --bank-key-id xwk_demo_bank --bank-secret demo-bank-secret-0123456789abcdef \
    --requests "$REQUESTS" --concurrency "$CONCURRENCY" > "$WORK/$backend.json"
  kill "$server"; wait "$server" 2>/dev/null || true
}

run sqlite ""
psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
run postgres "${PG_ADMIN%/*}/$DB"

field() { python3 -c "import json; d=json.load(open('$WORK/$1.json')); print(d$2)"; }
row() {
  echo "| $1 | $(field "$1" "['course_sync']['per_second']") | $(field "$1" "['course_sync']['p50_ms']") / $(field "$1" "['course_sync']['p99_ms']") | $(field "$1" "['order_for_parent']['per_second']") | $(field "$1" "['order_for_parent']['p50_ms']") / $(field "$1" "['order_for_parent']['p99_ms']") | $(field "$1" "['bank_payments_per_second']") | $(field "$1" "['webhook']['delivered']") / $(field "$1" "['webhook']['of']") | $(field "$1" "['webhook']['p50_ms']") / $(field "$1" "['webhook']['p99_ms']") / $(field "$1" "['webhook']['max_ms']") |"
}
{
  echo "# Integration API under load — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; commit $(git rev-parse --short HEAD)."
  echo "$REQUESTS requests per phase, $CONCURRENCY in flight; 200 demo institutions; client, server and PostgreSQL"
  echo "on the same cores. Latencies in ms (p50 / p99; webhooks also max)."
  echo
  echo "| backend | course syncs/s | sync ms | orders for parents/s | order ms | bank payments/s | webhooks delivered | webhook ms (ack → arrival) |"
  echo "|---|---|---|---|---|---|---|---|"
  row sqlite
  row postgres
  echo
  echo "Raw reports: \`$WORK/*.json\`."
} > "$OUT"
cat "$OUT"
