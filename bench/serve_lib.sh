# Shared by the CDS Hooks benchmarks (sourced, not run): a free loopback
# port, and `regenpath serve` started in the background with a cleanup trap.
#   source bench/serve_lib.sh
#   PORT="$(bench_free_port)"; WORK="$(mktemp -d)"   # write $WORK/config.yaml
#   bench_start_server "$BIN" [serve options...]      # sets SERVER; waits for /healthz

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts `$1 serve ${@:2} --config $WORK/config.yaml` (log in $WORK/server.log);
# on exit, sends it SIGTERM, waits, and removes $WORK.
bench_start_server() {
  local bin="$1"
  shift
  "$bin" serve "$@" --config "$WORK/config.yaml" 2> "$WORK/server.log" &
  SERVER=$!
  trap 'kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
}
