#!/usr/bin/env bash
# `make scale-test`: compose.scale.yaml brought up (two replicas of the service behind HAProxy, one
# PostgreSQL), then tests/docker/scale_load.py through the balancer: 4 writers and a feed poller at once;
# nothing lost, nothing stored twice, the feed exact, both replicas used. On this machine it runs with
# tests/docker/compose.local.yaml and tests/docker/compose.scale.local.yaml (host network, free ports, a
# Debian-built PostgreSQL stand-in). Needs docker and docker-compose (or the compose plugin).
# LOAD_ARGS passes options to scale_load.py, e.g. LOAD_ARGS="--batches 40 --batch-size 1000".
set -euo pipefail
cd "$(dirname "$0")/../.."

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export COMPOSE_PROJECT_NAME=escalation-scale-test-$$
export POSTGRES_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
export ESCALATION_BOOTSTRAP_API_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
export POSTGRES_IMAGE=${POSTGRES_IMAGE:-escalation-test/postgres:15}
export DB_PORT=$(free_port) SERVICE_PORT=$(free_port) SERVICE2_PORT=$(free_port) LB_PORT=$(free_port) LB_STATS_PORT=$(free_port)
BASE=http://127.0.0.1:$LB_PORT
files=(-f compose.yaml -f compose.scale.yaml -f tests/docker/compose.local.yaml -f tests/docker/compose.scale.local.yaml)
# The merged configuration less the published ports (host networking publishes nothing).
merged=$(mktemp /tmp/escalation-scale-XXXX.yaml)
log=/tmp/escalation-scale-up-$$.log
run() { "${compose[@]}" -f "$merged" "$@"; }
cleanup() { run down -v >/dev/null 2>&1 || true; rm -f "$merged" "$log"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; run logs --no-color --tail 30; exit 1; }
t0=$(date +%s)

echo "== config"
"${compose[@]}" -f compose.yaml -f compose.scale.yaml config -q && echo "ok: ${compose[*]} config accepts compose.yaml + compose.scale.yaml"
"${compose[@]}" "${files[@]}" config \
  | .venv/bin/python -c 'import sys, yaml; c = yaml.safe_load(sys.stdin); [s.pop("ports", None) for s in c["services"].values()]; yaml.safe_dump(c, sys.stdout)' \
  > "$merged"
if [ "$POSTGRES_IMAGE" = escalation-test/postgres:15 ]; then
  docker build -q -t "$POSTGRES_IMAGE" tests/docker/postgres >/dev/null
fi
docker run --rm -e BACKEND1=127.0.0.1:1 -e BACKEND2=127.0.0.1:2 "$(docker build -q deploy/haproxy)" \
  haproxy -c -f /etc/haproxy/haproxy.cfg >/dev/null || fail "HAProxy refuses deploy/haproxy/haproxy.cfg"
echo "ok: HAProxy accepts deploy/haproxy/haproxy.cfg"

echo "== up (database on $DB_PORT, replicas on $SERVICE_PORT and $SERVICE2_PORT, balancer on $LB_PORT, stats on $LB_STATS_PORT)"
run up -d --build > "$log" 2>&1 || { cat "$log"; fail "compose up failed"; }
for i in $(seq 1 120); do
  curl -sf "$BASE/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
ready=$(curl -sf "$BASE/health/ready") || fail "not ready through the balancer after 120 s"
echo "ok: ready through the balancer after ~$(( $(date +%s) - t0 )) s (since the start of the test): $ready"
started() { docker inspect -f '{{.State.StartedAt}}' "$(run ps -q "$1")" | cut -c12-23; }
echo "ok: started db $(started db), service $(started service), service2 $(started service2) (after service was healthy), lb $(started lb)"
run logs --no-color service 2>&1 | grep -E "database at" | sed 's/^/   log service:  /'
if run logs --no-color service2 2>&1 | grep -q "database at"; then fail "service2 ran the migrations too"; fi
echo "ok: only service ran the migrations"
for i in $(seq 1 20); do
  up=$(curl -s "http://127.0.0.1:$LB_STATS_PORT/stats;csv" | awk -F, '$1 == "replicas" && $2 ~ /^replica/ && $18 == "UP"' | wc -l)
  [ "$up" = 2 ] && break
  sleep 1
done
[ "$up" = 2 ] || fail "HAProxy does not see both replicas UP"
echo "ok: HAProxy sees both replicas UP (checked on /health/ready)"
served=$(for i in 1 2 3 4; do curl -s -o /dev/null -D - "$BASE/health/ready" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-served-by" {print $2}'; done | sort | uniq -c | xargs)
echo "ok: round robin, 4 probes answered by: $served"

echo "== load through the balancer"
# shellcheck disable=SC2086
.venv/bin/python tests/docker/scale_load.py --base "$BASE" --key "$ESCALATION_BOOTSTRAP_API_KEY" \
  --stats "http://127.0.0.1:$LB_STATS_PORT/stats" ${LOAD_ARGS:-} || fail "the load's checks failed"

echo "== in PostgreSQL"
psql_db() { docker exec "$(run ps -q db)" sh -c "PGPASSWORD=$POSTGRES_PASSWORD psql -tA -h 127.0.0.1 -p $DB_PORT -U escalation -d escalation -c \"$1\""; }
echo "ok: $(psql_db 'select count(*) from event') events, $(psql_db 'select count(*) from assessment') assessments (max id $(psql_db 'select max(id) from assessment')); keys stored twice: $(psql_db 'select count(*) from (select 1 from event group by source, source_event_id having count(*) > 1) d')"
[ "$(psql_db 'select count(*) from (select 1 from event group by source, source_event_id having count(*) > 1) d')" = 0 ] || fail "a key stored twice"
for s in service service2; do
  restarts=$(docker inspect -f '{{.RestartCount}}' "$(run ps -q $s)")
  [ "$restarts" = 0 ] || fail "$s restarted $restarts times"
done
echo "ok: no replica restarted"
echo "PASS ($(( $(date +%s) - t0 )) s in all)"
