#!/usr/bin/env bash
# Runs build/bench/registry_bench on SQLite and on a throw-away PostgreSQL 15
# server started here in a temp directory (Unix socket only; as root the
# server runs as the postgres user through runuser) and stopped after.
#   bench/registry_bench.sh [registry_bench options, e.g. --episodes 100000]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/build/bench/registry_bench"
PG=/usr/lib/postgresql/15/bin
DIR="$(mktemp -d /tmp/regenpath-bench-pg-XXXXXX)"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
cleanup() { as_pg "$PG/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
as_pg "$PG/initdb" -D "$DIR/data" -A trust -U regenpath >/dev/null
as_pg "$PG/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -o "-k $DIR -c listen_addresses= -p 5432" -w start >/dev/null
psql -h "$DIR" -p 5432 -U regenpath -d postgres -qc "CREATE DATABASE bench" >/dev/null
"$BIN" --postgres "host=$DIR port=5432 user=regenpath dbname=bench" "$@"
