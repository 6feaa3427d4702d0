#!/usr/bin/env bash
# Orders paid per second, end to end through the bank API, on PostgreSQL — measured in the same run as
# pgbench's TPC-B on the same database, and reported as a ratio.
#
#   bench/pay.sh [ORDERS] [CONCURRENCY] [PGBENCH_SECONDS] [BATCH] [BATCH_CONCURRENCY]   defaults: 5000 32 30 50 4
#
# `xiaowai serve --demo` (release build) runs on a fresh PostgreSQL database; `bank-sim load` signs the demo
# parent in, places ORDERS orders through the parent API (setup, timed separately), then pays every one as
# the demo bank: once one notice per request, CONCURRENCY requests at a time (a signed POST
# /api/v1/bank/payments with an Idempotency-Key), once BATCH notices per request, BATCH_CONCURRENCY at a time
# (POST /api/v1/bank/payments/batch, one transaction each; fewer in flight, since each carries many). A
# payment counts when the platform answers `paid`: signature and nonce checked, order marked paid, escrow
# and clearing accounts posted, audit entry chained, answer kept for the idempotency key. The server is then
# stopped and pgbench TPC-B (scale 10, CONCURRENCY clients) runs on the same database. Client, server and
# PostgreSQL share this machine's cores. Results go to bench/results/pay-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ORDERS="${1:-5000}"
CONCURRENCY="${2:-32}"
PGBENCH_SECONDS="${3:-30}"
BATCH="${4:-50}"
BATCH_CONCURRENCY="${5:-4}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
DB=xiaowai_pay_bench
PG_URL="${PG_ADMIN%/*}/$DB"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xiaowai-target}"
BIN="$CARGO_TARGET_DIR/release"
WORK="bench/work/pay"
OUT="bench/results/pay-$(date -u +%Y-%m-%d).md"
PORT=18097

cargo build --release --bin xiaowai --bin bank-sim
rm -rf "$WORK" && mkdir -p "$WORK" bench/results
psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"

XIAOWAI_LOG=warn "$BIN/xiaowai" serve --demo --demo-institutions 200 --database-url "$PG_URL" \
  --data-dir "$WORK" --listen "127.0.0.1:$PORT" --log-format json > "$WORK/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
course=$(psql -qtA "$PG_URL" -c "SELECT c.id FROM courses c JOIN supervised_accounts a ON a.institution_id = c.institution_id \
  WHERE a.account_no = '6222020200112345678' AND c.price_per_lesson_fen > 0 ORDER BY c.id LIMIT 1")

for batch in 1 "$BATCH"; do
  in_flight=$CONCURRENCY
  if [[ "$batch" != 1 ]]; then in_flight=$BATCH_CONCURRENCY; fi
  "$BIN/bank-sim" load --platform "http://127.0.0.1:$PORT" --data-dir "$WORK" --course-id "$course" \
    --orders "$ORDERS" --concurrency "$in_flight" --batch "$batch" > "$WORK/load-$batch.json"
  if [[ "$batch" == 1 ]]; then sleep 61; fi # the demo parent may ask for one sign-in code a minute
done
kill "$server"; wait "$server" 2>/dev/null || true
paid_rows=$(psql -qtA "$PG_URL" -c "SELECT count(*) FROM orders WHERE status = 'paid'")

pgbench -q -i -s 10 "$PG_URL" > "$WORK/pgbench-init.txt" 2>&1
pgbench -c "$CONCURRENCY" -j 2 -T "$PGBENCH_SECONDS" "$PG_URL" > "$WORK/pgbench.txt" 2>&1
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK/pgbench.txt" | head -n1)
pg_latency=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/pgbench.txt")

field() { python3 -c "import json; d=json.load(open('$WORK/load-$1.json')); print(d$2)"; }
row() { # batch requests-in-flight
  local per_second ratio
  per_second=$(field "$1" "['pay']['per_second']")
  ratio=$(python3 -c "print(f'{$per_second / $tps:.2f}')")
  echo "| $1 | $2 | $(field "$1" "['pay']['ok']") of $ORDERS ($(field "$1" "['pay']['failed_requests']") failed requests) | **$(printf '%.0f' "$per_second")** | $(printf '%.1f' "$(field "$1" "['pay']['p50_ms']")") / $(printf '%.1f' "$(field "$1" "['pay']['p95_ms']")") / $(printf '%.1f' "$(field "$1" "['pay']['p99_ms']")") | **$ratio** |"
}
{
  echo "# Orders paid per second through the bank API vs pgbench TPC-B — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -qtA "$PG_ADMIN" -c 'SHOW server_version'); commit $(git rev-parse --short HEAD); \`bench/pay.sh $ORDERS $CONCURRENCY $PGBENCH_SECONDS $BATCH $BATCH_CONCURRENCY\`."
  echo "Client, server and database on the same machine."
  echo
  echo "pgbench TPC-B on the same database after the platform stopped (scale 10, $CONCURRENCY clients, ${PGBENCH_SECONDS}s): **$(printf '%.0f' "$tps") tps** (latency average $pg_latency ms)."
  echo
  echo "| notices per request | requests in flight | orders paid | **paid per second** | request latency p50 / p95 / p99 (ms) | **ratio to pgbench tps** (target ≥ 1.0) |"
  echo "|---|---|---|---|---|---|"
  row 1 "$CONCURRENCY"
  row "$BATCH" "$BATCH_CONCURRENCY"
  echo
  echo "$paid_rows orders are paid in the database. Setup (not measured above): orders placed per second through the parent API, e-contract and digest included: $(printf '%.0f' "$(field 1 "['place']['per_second']")")."
  echo
  echo "Raw: \`bench/work/pay/load-*.json\`, \`bench/work/pay/pgbench.txt\` (not committed)."
} > "$OUT"
cat "$OUT"
