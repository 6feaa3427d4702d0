#!/usr/bin/env bash
# Dashboard benchmark: the national (and a provincial) 监管看板 with 500,000 institutions and 10,000,000 paid
# orders loaded, on SQLite and on PostgreSQL.
#
#   bench/dashboard.sh [INSTITUTIONS] [ORDERS] [DURATION]      defaults: 500000 10000000 20s
#   BACKENDS="sqlite postgres" (default both)
#
# Seeds once per backend (kept under bench/work/dashboard-* and in PostgreSQL database xiaowai_dash_bench):
# `xiaowai demo --institutions N`, then ORDERS paid orders spread over the institutions and the last 90 days,
# loaded in bulk by SQL (the demo parent, child, course and account stand in for every order's foreign keys);
# `xiaowai serve` finds paid orders its rollups do not count and rebuilds them once on open (timed below).
# Then `xiaowai serve` (release) answers GET /api/v1/regulator/dashboard as the national supervisor under wrk
# (a second process on the same 2 cores). Results go to bench/results/dashboard-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500000}"
ORDERS="${2:-10000000}"
DURATION="${3:-20s}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_URL="${PG_ADMIN%/*}/xiaowai_dash_bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xiaowai-target}"
BIN="$CARGO_TARGET_DIR/release/xiaowai"
WORK="bench/work"
OUT="bench/results/dashboard-$(date -u +%Y-%m-%d).md"
PORT=18098
mkdir -p "$WORK" bench/results
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }

cargo build --release --bin xiaowai

# The orders: the k-th goes to the (k mod N)-th institution, paid on one of the last 90 days.
orders_sql() { # backend
  local now_ms
  now_ms=$(($(date +%s) * 1000))
  if [[ "$1" == sqlite ]]; then
    cat <<SQL
PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;
CREATE TEMP TABLE inst AS SELECT row_number() OVER (ORDER BY id) AS rn, id FROM institutions;
CREATE INDEX temp.inst_rn ON inst (rn);
BEGIN;
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < $ORDERS),
demo AS (SELECT o.course_id, o.parent_id, o.child_id, o.supervised_account_id FROM
  (SELECT c.id AS course_id, a.id AS parent_id, ch.id AS child_id, s.id AS supervised_account_id
   FROM courses c, children ch JOIN accounts a ON a.id = ch.parent_id, supervised_accounts s LIMIT 1) o)
INSERT INTO orders (id, order_no, institution_id, course_id, parent_id, child_id, supervised_account_id, lessons,
  amount_fen, contract_json, contract_digest, status, created_at, paid_at, payment_ref)
SELECT printf('bench-%09d', k), printf('XWB%09d', k), inst.id, demo.course_id, demo.parent_id, demo.child_id,
  demo.supervised_account_id, 10, 100000 + (k % 50) * 1000, '{}', '', 'paid',
  $now_ms - (k % 90) * 86400000, $now_ms - (k % 90) * 86400000, printf('bench-pay-%09d', k)
FROM n JOIN inst ON inst.rn = (k % (SELECT COUNT(*) FROM inst)) + 1, demo;
COMMIT;
SQL
  else
    cat <<SQL
CREATE TEMP TABLE inst AS SELECT row_number() OVER (ORDER BY id) AS rn, id FROM institutions;
CREATE INDEX ON inst (rn);
ANALYZE inst;
INSERT INTO orders (id, order_no, institution_id, course_id, parent_id, child_id, supervised_account_id, lessons,
  amount_fen, contract_json, contract_digest, status, created_at, paid_at, payment_ref)
SELECT 'bench-' || lpad(k::text, 9, '0'), 'XWB' || lpad(k::text, 9, '0'), inst.id, demo.course_id,
  demo.parent_id, demo.child_id, demo.supervised_account_id, 10, 100000 + (k % 50) * 1000, '{}', '', 'paid',
  $now_ms - (k % 90) * 86400000, $now_ms - (k % 90) * 86400000, 'bench-pay-' || lpad(k::text, 9, '0')
FROM generate_series(1::bigint, $ORDERS) AS k
JOIN inst ON inst.rn = (k % (SELECT COUNT(*) FROM inst)) + 1
CROSS JOIN (SELECT c.id AS course_id, a.id AS parent_id, ch.id AS child_id, s.id AS supervised_account_id
   FROM courses c, children ch JOIN accounts a ON a.id = ch.parent_id, supervised_accounts s LIMIT 1) demo;
ANALYZE;
SQL
  fi
}

seed() { # backend data_dir [url]
  local marker="$2/seeded-$N-$ORDERS"
  [[ -f "$marker" ]] && return
  rm -rf "$2"; mkdir -p "$2"
  if [[ "$1" == postgres ]]; then
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS xiaowai_dash_bench"
    psql "$PG_ADMIN" -qc "CREATE DATABASE xiaowai_dash_bench"
  fi
  local args=(--data-dir "$2")
  [[ -n "${3:-}" ]] && args+=(--database-url "$3")
  local start=$SECONDS
  "$BIN" demo --institutions "$N" "${args[@]}"
  local demo_s=$((SECONDS - start))
  if [[ "$1" == sqlite ]]; then
    orders_sql sqlite | sqlite3 "$2/xiaowai.sqlite3"
  else
    orders_sql postgres | psql -q -v ON_ERROR_STOP=1 "$3"
  fi
  echo "$demo_s $((SECONDS - start - demo_s))" > "$marker"
}

count() { # backend data_dir [url] — the orders actually loaded
  if [[ "$1" == sqlite ]]; then sqlite3 "$2/xiaowai.sqlite3" "SELECT COUNT(*) FROM orders"
  else psql -qtA "$3" -c "SELECT COUNT(*) FROM orders"; fi
}

token() { # the national supervisor's bearer token (demo password and TOTP secret, README)
  local code
  code=$(python3 - <<'PY'
import hmac, hashlib, struct, time
key = b"12345678901234567890"
counter = int(time.time()) // 30
digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
offset = digest[-1] & 0x0F
value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
print(f"{value % 1000000:06d}")
PY
)
  curl -sf "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"moe.supervisor\",\"password\":\"xiaowai-demo-2026\",\"totp\":\"$code\"}" \
    | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

run() { # backend data_dir [url]
  local args=(--data-dir "$2" --listen "127.0.0.1:$PORT" --log-format json)
  [[ -n "${3:-}" ]] && args+=(--database-url "$3")
  XIAOWAI_LOG="warn,app=info" "$BIN" serve "${args[@]}" > "$WORK/dashboard-serve-$1.log" 2>&1 &
  local pid=$!
  local opened=$SECONDS
  for _ in $(seq 1 1800); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
  echo "$1: serve answered after $((SECONDS - opened)) s (migrations and the one-time rollup rebuild of the loaded orders)" >> "$OUT.notes"
  # The worker's first hourly risk sweep reads every institution at start: measure once it is done.
  for _ in $(seq 1 3600); do grep -q "risk sweep finished" "$WORK/dashboard-serve-$1.log" && break; sleep 1; done
  local sweep
  sweep=$(sed -n 's/.*"ms":\([0-9]*\).*risk sweep finished.*/\1/p; s/.*risk sweep finished.*"ms":\([0-9]*\).*/\1/p' \
    "$WORK/dashboard-serve-$1.log" | head -n1)
  echo "$1: first risk sweep took ${sweep:-?} ms" >> "$OUT.notes"
  local t
  t=$(token)
  [[ -n "$t" ]] || { echo "no token"; kill "$pid"; exit 1; }
  local loaded
  loaded=$(count "$@")
  local region path shown
  for region in 000000 110000; do
    path="/api/v1/regulator/dashboard?region=$region&days=30"
    # The region's orders as the dashboard shows them (the nation's must equal the orders loaded).
    curl -sf -H "authorization: Bearer $t" "http://127.0.0.1:$PORT$path" > "$WORK/dashboard-$1-$region.json"
    shown=$(python3 -c "import json; print(json.load(open('$WORK/dashboard-$1-$region.json'))['money']['orders_paid'])")
    wrk -t1 -c1 -d5s -H "authorization: Bearer $t" "http://127.0.0.1:$PORT$path" > /dev/null   # warm-up
    wrk -t2 -c4 -d"$DURATION" --latency -H "authorization: Bearer $t" "http://127.0.0.1:$PORT$path" \
      > "$WORK/dashboard-wrk-$1-$region.txt"
    local f="$WORK/dashboard-wrk-$1-$region.txt"
    echo "| $1 | $region | $loaded | $shown | $(cut -d' ' -f1 "$2/seeded-$N-$ORDERS")s + $(cut -d' ' -f2 "$2/seeded-$N-$ORDERS")s | $(awk '/Requests\/sec/ {print $2}' "$f") | $(awk '$1=="50%" {print $2}' "$f") | $(awk '$1=="99%" {print $2}' "$f") | $(grep -hE 'Non-2xx|Socket errors' "$f" | tr '\n' ' ' || true) |" >> "$OUT.rows"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

rm -f "$OUT.rows" "$OUT.notes"
for backend in $BACKENDS; do
  if [[ "$backend" == sqlite ]]; then
    seed sqlite "$WORK/dashboard-sqlite"
    run sqlite "$WORK/dashboard-sqlite"
  else
    seed postgres "$WORK/dashboard-postgres" "$PG_URL"
    run postgres "$WORK/dashboard-postgres" "$PG_URL"
  fi
done

{
  echo "# Dashboard benchmark, $(date -u +%Y-%m-%d)"
  echo
  echo "- Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr)"
  echo "- Build: \`cargo build --release\`, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- Data: $N demo institutions, $ORDERS paid orders over the last 90 days (bulk SQL), rollups rebuilt from them on open"
  echo "- Load: \`GET /api/v1/regulator/dashboard?region=R&days=30\` as the national supervisor; wrk, 2 threads,"
  echo "  4 connections, $DURATION after a 5 s warm-up, on the same machine"
  echo "- Target (issue 7): the national dashboard answers in under 200 ms"
  echo
  echo "| backend | region | orders loaded | orders on the dashboard | seeding (demo + orders) | requests/s | p50 | p99 | errors |"
  echo "|---|---|---|---|---|---|---|---|---|"
  cat "$OUT.rows"
  echo
  sed 's/^/- /' "$OUT.notes"
} > "$OUT"
rm -f "$OUT.rows" "$OUT.notes"
cat "$OUT"
