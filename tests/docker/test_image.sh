#!/usr/bin/env bash
# `make docker-test`: build the image and check it as an operator would. It runs the image's own
# command (bound to all interfaces, migrations at start) with a bootstrap key, on the host's network
# so every request goes to 127.0.0.1, waits for readiness, posts the seed events with the key, reads
# the risk, and checks the user, the refusals without a key, and that no compiler or pip is left.
# Needs a working `docker` (on this machine: ../shared/tools/docker-here.sh). Exit 0 only if all pass.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-escalation-risk:test}
NAME=escalation-risk-test-$$
KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')  # 43 characters
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
passed=0

step() { printf '\n== %s\n' "$*"; }
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { echo "FAIL: $*"; echo "-- container log:"; docker logs "$NAME" 2>&1 | tail -40; exit 1; }
cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "docker is not available"; exit 2; }

step "build $IMAGE"
started=$(date +%s)
docker build -q -t "$IMAGE" . >/dev/null
size=$(docker image inspect "$IMAGE" --format '{{.Size}}')
echo "built in $(( $(date +%s) - started )) s; image size $(( size / 1000000 )) MB ($size bytes)"
base_size=$(docker image inspect python:3.11-slim --format '{{.Size}}' 2>/dev/null || echo 0)
[ "$base_size" -gt 0 ] && echo "of which the python:3.11-slim base: $(( base_size / 1000000 )) MB"

step "run it with a bootstrap key (${#KEY} characters) on port $PORT"
docker run -d --name "$NAME" --network host -e ESCALATION_BOOTSTRAP_API_KEY="$KEY" -e ESCALATION_PORT="$PORT" \
  "$IMAGE" >/dev/null
for i in $(seq 1 120); do
  if curl -sf "$BASE/health/ready" >/dev/null 2>&1; then break; fi
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || fail "the container exited"
  sleep 1
done
curl -sf "$BASE/health/ready" >/dev/null || fail "not ready after 120 s"
ok "ready after ~${i} s: $(curl -s "$BASE/health/ready")"
docker logs "$NAME" 2>&1 | grep -E "starting:|Uvicorn running" | sed 's/^/   log: /'

step "runs as a non-root user"
uid=$(docker exec "$NAME" sh -c 'awk "/^Uid:/ {print \$2}" /proc/1/status')
[ "$uid" != 0 ] || fail "the server process runs as root"
ok "server process uid $uid ($(docker exec "$NAME" id -un)); image user: $(docker image inspect "$IMAGE" --format '{{.Config.User}}')"
docker exec "$NAME" sh -c 'touch /srv/escalation/app/x 2>/dev/null' && fail "the service's code is writable by its user"
ok "the service's code is read-only for that user"

step "refuses requests without a key"
for path in "/v1/dyads" "/v1/risk?a=IRN&b=PAK" "/v1/events"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$path")
  [ "$code" = 401 ] || fail "GET $path without a key gave $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/events" -H 'content-type: application/json' -d '{}')
[ "$code" = 401 ] || fail "POST /v1/events without a key gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v1/dyads" -H "X-API-Key: not-the-key-$KEY")
[ "$code" = 401 ] || fail "a wrong key gave $code"
ok "401 without a key (GET /v1/dyads, /v1/risk, /v1/events; POST /v1/events) and with a wrong one"

step "posts the seed events with the key"
seed='[
 {"source": "seed", "source_event_id": "2024-01-16-irn-pak", "occurred_on": "2024-01-16",
  "actor1": {"name": "Iran (IRGC)", "country": "IRN", "kind": "state"},
  "actor2": {"name": "Jaish al-Adl", "kind": "non_state"},
  "location": {"country": "PAK", "admin1": "Balochistan"},
  "action": "attack", "weapons": ["missile", "drone"], "fatalities": 2, "civilian_fatalities": 2},
 {"source": "seed", "source_event_id": "2024-01-18-pak-irn", "occurred_on": "2024-01-18",
  "actor1": {"name": "Pakistan Armed Forces", "country": "PAK", "kind": "state"},
  "actor2": {"name": "Baluchistan Liberation Army", "kind": "non_state"},
  "location": {"country": "IRN", "admin1": "Sistan and Baluchestan"},
  "action": "attack", "weapons": ["drone", "rocket", "loitering_munition", "standoff_weapon"],
  "fatalities": 9, "civilian_fatalities": 7, "retaliation": true, "responds_to": "2024-01-16-irn-pak"}]'
body=$(curl -sf -X POST "$BASE/v1/events/batch" -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d "$seed") || fail "posting the seed events failed"
created=$(echo "$body" | json 'd["created"]')
[ "$created" = 2 ] || fail "expected 2 created, got: $body"
ok "2 events created: $(echo "$body" | json 'd["items"]')"
answer=$(curl -sf "$BASE/v1/events/2" -H "X-API-Key: $KEY" | json '(d["responds_to"], d["responds_to_source_event_id"])')
[ "$answer" = "(1, '2024-01-16-irn-pak')" ] || fail "responds_to by source_event_id: got $answer"
ok "the retaliation answers event 1, named by its source_event_id in the same batch: $answer"

step "reads the risk"
risk=$(curl -sf "$BASE/v1/risk?a=IRN&b=PAK&as_of=2024-01-18" -H "X-API-Key: $KEY") || fail "GET /v1/risk failed"
echo "$risk" | json '"IRN-PAK as of 2024-01-18: p=%.3f level=%s drivers=%s model=%s" % (d["probability"], d["level"], [x.get("theme") or x.get("feature") for x in d["drivers"]][:3], d["model_version"])'
echo "$risk" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if d["probability"] > 0 and d["drivers"] and d["event_count"] == 2 else 1)' \
  || fail "unexpected risk: $risk"
ok "risk read with its drivers"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/dashboard")
[ "$code" = 200 ] || fail "GET /dashboard gave $code"
ok "the dashboard page is served"

step "nothing to build with is left in the image"
left=$(docker run --rm --entrypoint sh "$IMAGE" -c \
  'for t in gcc cc c++ make /opt/venv/bin/pip; do command -v $t; done; ls -d /root/.cache/pip /home/escalation/.cache/pip 2>/dev/null; true')
[ -z "$left" ] || fail "found in the image: $left"
ok "no gcc, cc, c++ or make, no pip in the service's virtualenv, no pip cache"

printf '\nPASS: %d checks; image %s, %d MB\n' "$passed" "$IMAGE" $(( size / 1000000 ))
