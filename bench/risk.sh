#!/usr/bin/env bash
# Risk-engine throughput: bank movements (动账) evaluated by the risk model per second, on SQLite and
# PostgreSQL.
#
#   bench/risk.sh [INSTITUTIONS] [ACCOUNTS] [MOVEMENTS] [BATCH] [CONCURRENCY]   defaults: 2000 1000 100000 100 4
#   BACKENDS="sqlite postgres" (default both), SIM_STEPS=20000 (the normal-traffic phase, per backend)
#
# `xiaowai demo --institutions N` seeds the registry; ACCOUNTS more institutions get a confirmed supervised
# account at the demo bank (inserted by SQL; the demo's own three accounts, one with real paid orders in
# escrow, are used too). `xiaowai serve` (release) then takes MOVEMENTS movements from `bank-sim
# load-movements`, spread round-robin over the accounts, every tenth of an account's movements an outflow the
# platform never instructed — signed requests, BATCH movements per request (POST /api/v1/bank/movements/batch),
# CONCURRENCY requests in flight — and once more one movement per request (POST /api/v1/bank/movements, a
# tenth as many movements, 8 in flight). Each movement, in its report's transaction: signature and nonce,
# idempotency key, account lookup and duplicate check, instruction matching, the movement row, the reported
# balance and its reconciliation against the escrow owed, the risk model's evaluation (coverage, unmatched
# and large outflows, the day's and week's withdrawals, each against the live warning of the institution),
# any warning with its reminder (inbox and text message), the audit entry. Client, server and database share
# this machine's cores.
#
# Normal traffic (false alarms): the load's outflows are all money nobody instructed, so it cannot show false
# alarms. The money simulation (`crates/sim`, release build) is the normal traffic: parents pay, lessons are
# released and refunds paid on the platform's own instructions, and the bank executes them close together,
# reports them out of order, duplicates and drops messages (settled by its statements), with server restarts.
# Nobody moves money behind the platform's back there, so every risk event or warning it raises is a false
# alarm; the rate is reported per 10,000 movements (target 0). Results go to bench/results/risk-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2000}"
ACCOUNTS="${2:-1000}"
MOVEMENTS="${3:-100000}"
BATCH="${4:-100}"
CONCURRENCY="${5:-4}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_URL="${PG_ADMIN%/*}/xiaowai_risk_bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xiaowai-target}"
BIN="$CARGO_TARGET_DIR/release"
WORK="bench/work/risk"
OUT="bench/results/risk-$(date -u +%Y-%m-%d).md"
PORT=18099
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }

SIM_STEPS="${SIM_STEPS:-20000}"
cargo build --release --bin xiaowai --bin bank-sim --bin sim
rm -rf "$WORK" && mkdir -p "$WORK" bench/results

sql() { # backend — reads SQL on stdin
  if [[ "$1" == sqlite ]]; then sqlite3 "$WORK/sqlite/xiaowai.sqlite3"; else psql -qtA -v ON_ERROR_STOP=1 "$PG_URL"; fi
}

accounts_sql() { # backend
  local now_ms number
  now_ms=$(($(date +%s) * 1000))
  if [[ "$1" == sqlite ]]; then number="printf('62220299%011d', rn)"; else number="'62220299' || lpad(rn::text, 11, '0')"; fi
  cat <<SQL
INSERT INTO supervised_accounts (id, institution_id, bank_id, account_no, mode, status, requested_at, confirmed_at, confirmed_by)
SELECT 'bench-account-' || rn, id, 'demo-bank', $number, 'custody', 'confirmed', $now_ms, $now_ms, 'bench'
FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM institutions
      WHERE list_status = 'white' AND id NOT IN (SELECT institution_id FROM supervised_accounts)) i
WHERE rn <= $ACCOUNTS;
SQL
}

declare -A RESULT
for backend in $BACKENDS; do
  args=(--data-dir "$WORK/$backend")
  if [[ "$backend" == postgres ]]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS xiaowai_risk_bench" -c "CREATE DATABASE xiaowai_risk_bench"
    args+=(--database-url "$PG_URL")
  fi
  "$BIN/xiaowai" demo --institutions "$N" "${args[@]}" > "$WORK/demo-$backend.log" 2>&1
  accounts_sql "$backend" | sql "$backend"
  echo "SELECT account_no FROM supervised_accounts WHERE bank_id = 'demo-bank' AND status = 'confirmed' ORDER BY account_no;" \
    | sql "$backend" > "$WORK/accounts-$backend.txt"
  XIAOWAI_LOG=warn "$BIN/xiaowai" serve "${args[@]}" --listen "127.0.0.1:$PORT" --log-format json \
    > "$WORK/serve-$backend.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
  load=("$BIN/bank-sim" load-movements --platform "http://127.0.0.1:$PORT" --accounts "$WORK/accounts-$backend.txt")
  "${load[@]}" --movements "$((MOVEMENTS / 10))" --batch 1 --concurrency 8 > "$WORK/single-$backend.json"
  "${load[@]}" --movements "$MOVEMENTS" --batch "$BATCH" --concurrency "$CONCURRENCY" > "$WORK/batch-$backend.json"
  kill "$server"; wait "$server" 2>/dev/null || true
  RESULT[$backend]=$(echo "SELECT (SELECT COUNT(*) FROM bank_movements) || ' movements, ' ||
    (SELECT COUNT(*) FROM risk_warnings) || ' warnings (' ||
    (SELECT COUNT(DISTINCT institution_id) FROM risk_warnings) || ' institutions), ' ||
    (SELECT COUNT(*) FROM risk_events) || ' reconciliation risk events';" | sql "$backend")
done

for backend in $BACKENDS; do
  sim_args=(--seed 20261202 --steps "$SIM_STEPS" --progress-every 0 --report "$WORK/normal-$backend.jsonl")
  if [[ "$backend" == postgres ]]; then sim_args+=(--postgres "$PG_ADMIN"); fi
  "$BIN/sim" "${sim_args[@]}" > "$WORK/normal-$backend.txt"
done
normal() { # backend
  python3 - "$WORK/normal-$1.jsonl" "$1" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
alarms = sum(r["alarms"].values())
kinds = ", ".join(f"{k} {n}" for k, n in sorted(r["alarms"].items())) or "none"
print(f"| {sys.argv[2]} | {r['steps']} | {r['orders']} | {r['movements']} | {kinds} | **{r['false_alarms_per_10000_movements']:.2f}** |")
PY
}

field() { python3 -c "import json; d=json.load(open('$WORK/$1-$2.json')); print(d$3)"; }
row() { # mode backend
  echo "| $2 | $(field "$1" "$2" "['batch']") | $(field "$1" "$2" "['concurrency']") | $(field "$1" "$2" "['report']['ok']") of $(field "$1" "$2" "['movements']") ($(field "$1" "$2" "['report']['failed_requests']") failed requests) | **$(printf '%.0f' "$(field "$1" "$2" "['report']['per_second']")")** | $(printf '%.1f' "$(field "$1" "$2" "['report']['p50_ms']")") / $(printf '%.1f' "$(field "$1" "$2" "['report']['p95_ms']")") / $(printf '%.1f' "$(field "$1" "$2" "['report']['p99_ms']")") |"
}
{
  echo "# Risk evaluation: bank movements evaluated per second — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -qtA "$PG_ADMIN" -c 'SHOW server_version'); commit $(git rev-parse --short HEAD); \`bench/risk.sh $N $ACCOUNTS $MOVEMENTS $BATCH $CONCURRENCY\`."
  echo "Client (bank-sim), server and database on the same machine. Target: at least 5,000 events per second."
  echo
  echo "| backend | movements per request | requests in flight | movements accepted | **evaluated per second** | request latency p50 / p95 / p99 (ms) |"
  echo "|---|---|---|---|---|---|"
  for backend in $BACKENDS; do row batch "$backend"; done
  for backend in $BACKENDS; do row single "$backend"; done
  echo
  for backend in $BACKENDS; do
    echo "- $backend, $(($(wc -l < "$WORK/accounts-$backend.txt"))) accounts: in the database afterwards ${RESULT[$backend]}."
  done
  echo
  echo "## False alarms in normal traffic"
  echo
  echo "The money simulation (\`sim --seed 20261202 --steps $SIM_STEPS\`): payments, releases and refunds the platform"
  echo "instructed, executed close together, reported out of order, duplicated and dropped (settled by statements),"
  echo "with server restarts. Nobody moves money behind the platform's back, so every alarm is a false one."
  echo
  echo "| backend | steps | orders | movements recorded | alarms raised | **false alarms per 10,000 movements** (target 0) |"
  echo "|---|---|---|---|---|---|"
  for backend in $BACKENDS; do normal "$backend"; done
} > "$OUT"
cat "$OUT"
