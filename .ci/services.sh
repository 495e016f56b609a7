#!/usr/bin/env bash
# Install (Debian packages) and start a throwaway PostgreSQL and Redis on loopback for the session
# store tests, then print the two lines that point the tests at them:
#
#   export ALLM_TEST_POSTGRES_URL=postgresql://...
#   export ALLM_TEST_REDIS_URL=redis://...
#
# Use it as:  eval "$(bash .ci/services.sh)"
#
# Only those two lines go to stdout; everything else goes to stderr. Runs as root on a clean CI
# machine (apt-get installs the servers; PostgreSQL runs as the "postgres" user the package
# creates) or as an ordinary user who already has the packages. Both servers listen on 127.0.0.1
# only, on free ports, with their data under one fresh directory in /tmp; nothing is kept.
set -euo pipefail

log() { echo "services.sh: $*" >&2; }

have_servers() {
    command -v redis-server >/dev/null 2>&1 &&
        compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null 2>&1
}

if ! have_servers || ! id postgres >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        log "postgresql and redis-server are not installed and this is not root: install them first"
        exit 1
    fi
    log "installing postgresql and redis-server (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends postgresql redis-server >&2
fi

PG_BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

ROOT="$(mktemp -d /tmp/allm-services.XXXXXX)"
chmod 755 "$ROOT"

# -- PostgreSQL: a new cluster, trust auth on loopback, no fsync (test data only) ---------------
if [ "$(id -u)" -eq 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
    chown postgres:postgres "$ROOT"
else
    as_pg() { "$@"; }
fi
PG_PORT="$(free_port)"
log "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT in $ROOT/pg"
as_pg "$PG_BIN/initdb" -D "$ROOT/pg" -U postgres -A trust -E UTF8 --no-sync >&2
as_pg "$PG_BIN/pg_ctl" -D "$ROOT/pg" -l "$ROOT/pg.log" -w -t 60 \
    -o "-p $PG_PORT -k $ROOT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2
as_pg "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -t 30 >&2

# -- Redis: no persistence, loopback only ---------------------------------------------------------
REDIS_PORT="$(free_port)"
log "starting Redis on 127.0.0.1:$REDIS_PORT"
REDIS_DIR="$ROOT/redis"
mkdir -p "$REDIS_DIR"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_DIR/redis.pid" >&2
for _ in $(seq 1 50); do
    if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
        break
    fi
    sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >&2

echo "export ALLM_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
echo "export ALLM_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
