#!/usr/bin/env bash
# The OpenAPI document as a contract: schemathesis generates requests from /api/openapi.json alone and checks
# every answer (no 5xx, a documented status, the documented content type, a body that fits its schema), as
# four kinds of caller: anonymous, the demo parent, the demo institution's admin and Haidian's county
# supervisor. It runs against its own `xiaowai serve --demo` (its fuzzing leaves junk the browser tests must not
# meet), each caller bounded in time.
#
#   .ci/schemathesis.sh XIAOWAI_BIN [SECONDS_PER_CALLER]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1"
SECONDS_PER_CALLER="${2:-75}"
VENV="${XIAOWAI_SCHEMATHESIS_VENV:-$HOME/.cache/xiaowai-schemathesis}"
DEMO_PASSWORD="xiaowai-demo-2026"
DEMO_PARENT_PHONE="13800000001"

if [[ ! -x "$VENV/bin/schemathesis" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'schemathesis==4.32.5'
fi

data_dir="$(mktemp -d)"
log="$data_dir/serve.log"
"$BIN" serve --demo --listen 127.0.0.1:0 --data-dir "$data_dir" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
base=""
for _ in $(seq 1 120); do
  base="$(sed -n 's/^xiaowai listening on \(http:[^ ]*\)$/\1/p' "$log" | head -n1)"
  if [[ -n "$base" ]] && curl -sf "$base/healthz" >/dev/null; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$log"; echo "server exited"; exit 1; fi
  sleep 1
done

login() { curl -sf -H 'content-type: application/json' -d "$1" "$base/api/v1/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'; }
# The demo's TOTP secret is RFC 6238's test secret; the code of the current 30-second step.
totp() { python3 -c '
import hmac, struct, time
mac = hmac.digest(b"12345678901234567890", struct.pack(">Q", int(time.time()) // 30), "sha1")
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))'; }

curl -sf -H 'content-type: application/json' -d "{\"phone\":\"$DEMO_PARENT_PHONE\"}" "$base/api/v1/auth/sms-code"
code="$(sed -n 's/.*验证码 \([0-9]\{6\}\).*/\1/p' "$data_dir/dev-sms.log" | tail -n1)"
parent="$(login "{\"phone\":\"$DEMO_PARENT_PHONE\",\"code\":\"$code\"}")"
institution="$(login "{\"username\":\"inst.admin\",\"password\":\"$DEMO_PASSWORD\"}")"
supervisor="$(login "{\"username\":\"haidian.supervisor\",\"password\":\"$DEMO_PASSWORD\",\"totp\":\"$(totp)\"}")"

status=0
for caller in anonymous parent institution supervisor; do
  auth=()
  case "$caller" in
    parent) auth=(-H "Authorization: Bearer $parent") ;;
    institution) auth=(-H "Authorization: Bearer $institution") ;;
    supervisor) auth=(-H "Authorization: Bearer $supervisor") ;;
  esac
  echo "== schemathesis as $caller"
  # Signing out spends the token the rest of the run needs.
  "$VENV/bin/schemathesis" run "$base/api/openapi.json" --url "$base" "${auth[@]}" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path /api/v1/auth/logout --max-time "$SECONDS_PER_CALLER" --workers 2 \
    --suppress-health-check all --no-color || status=1
done
exit "$status"
