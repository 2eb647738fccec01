#!/usr/bin/env bash
# `make compose-test`: run compose.yaml (service + PostgreSQL) and check that the service waited for
# the database, migrated it, and serves: seed events in, risk out, through PostgreSQL. On this machine
# it runs with tests/docker/compose.local.yaml (host network, a Debian-built PostgreSQL stand-in, since
# no registry serves `postgres:16`). Needs docker and docker-compose (or the compose plugin).
set -euo pipefail
cd "$(dirname "$0")/../.."

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export COMPOSE_PROJECT_NAME=escalation-compose-test-$$
export POSTGRES_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
export ESCALATION_BOOTSTRAP_API_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
export POSTGRES_IMAGE=${POSTGRES_IMAGE:-escalation-test/postgres:15} DB_PORT=$(free_port) SERVICE_PORT=$(free_port)
BASE=http://127.0.0.1:$SERVICE_PORT
# compose.yaml with the local overrides, less the published port (host networking publishes nothing).
merged=$(mktemp /tmp/escalation-compose-XXXX.yaml)
run() { "${compose[@]}" -f "$merged" "$@"; }
cleanup() { run down -v >/dev/null 2>&1 || true; rm -f "$merged"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; run logs --tail 40; exit 1; }

echo "== config"
"${compose[@]}" -f compose.yaml config -q && echo "ok: ${compose[*]} config accepts compose.yaml"
"${compose[@]}" -f compose.yaml -f tests/docker/compose.local.yaml config \
  | .venv/bin/python -c 'import sys, yaml; c = yaml.safe_load(sys.stdin); c["services"]["service"].pop("ports"); yaml.safe_dump(c, sys.stdout)' \
  > "$merged"
if [ "$POSTGRES_IMAGE" = escalation-test/postgres:15 ]; then
  docker build -q -t "$POSTGRES_IMAGE" tests/docker/postgres >/dev/null
fi

echo "== up (database on $DB_PORT, service on $SERVICE_PORT)"
run up -d --build > /tmp/escalation-compose-up-$$.log 2>&1 || { cat /tmp/escalation-compose-up-$$.log; fail "compose up failed"; }
grep -E "^(Creating|Starting).*done" /tmp/escalation-compose-up-$$.log || true
for i in $(seq 1 120); do
  curl -sf "$BASE/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
ready=$(curl -sf "$BASE/health/ready") || fail "service not ready after 120 s"
echo "ok: ready after ~${i} s: $ready"
db_started=$(docker inspect -f '{{.State.StartedAt}}' "$(run ps -q db)")
svc_started=$(docker inspect -f '{{.State.StartedAt}}' "$(run ps -q service)")
db_healthy=$(docker inspect -f '{{.State.Health.Status}}' "$(run ps -q db)")
echo "ok: db started $db_started ($db_healthy), service started $svc_started (after the db's healthcheck passed)"
run logs --no-color service 2>&1 | grep -E "database at|starting:" | sed 's/^/   log: /'

echo "== seed events in, risk out"
seed='[{"source": "seed", "source_event_id": "2024-01-16-irn-pak", "occurred_on": "2024-01-16",
  "actor1": {"name": "Iran (IRGC)", "country": "IRN", "kind": "state"}, "actor2": {"name": "Jaish al-Adl", "kind": "non_state"},
  "location": {"country": "PAK"}, "action": "attack", "weapons": ["missile", "drone"], "fatalities": 2, "civilian_fatalities": 2},
 {"source": "seed", "source_event_id": "2024-01-18-pak-irn", "occurred_on": "2024-01-18",
  "actor1": {"name": "Pakistan Armed Forces", "country": "PAK", "kind": "state"},
  "actor2": {"name": "Baluchistan Liberation Army", "kind": "non_state"}, "location": {"country": "IRN"},
  "action": "attack", "weapons": ["drone", "rocket"], "fatalities": 9, "civilian_fatalities": 7, "retaliation": true}]'
curl -sf -X POST "$BASE/v1/events/batch" -H "X-API-Key: $ESCALATION_BOOTSTRAP_API_KEY" -H 'content-type: application/json' \
  -d "$seed" >/dev/null || fail "posting the seed events failed"
risk=$(curl -sf "$BASE/v1/risk?a=IRN&b=PAK&as_of=2024-01-18" -H "X-API-Key: $ESCALATION_BOOTSTRAP_API_KEY") || fail "no risk"
echo "ok: $(echo "$risk" | python3 -c 'import json, sys; d = json.load(sys.stdin); print("IRN-PAK as of 2024-01-18: p=%.3f %s" % (d["probability"], d["level"]))')"
stored=$(docker exec "$(run ps -q db)" sh -c "PGPASSWORD=$POSTGRES_PASSWORD psql -tA -h 127.0.0.1 -p $DB_PORT -U escalation -d escalation -c 'select count(*) from event'")
[ "$stored" = 2 ] || fail "expected 2 events in PostgreSQL, found $stored"
echo "ok: the 2 events are in PostgreSQL"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v1/dyads")" = 401 ] || fail "served without a key"
echo "ok: 401 without a key"
echo "PASS"
