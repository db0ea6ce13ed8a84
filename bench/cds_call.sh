#!/usr/bin/env bash
# In-process cost of one CDS Hooks patient-view call (no HTTP): builds the
# request body the load test uses (one Synthea patient, restricted to the
# prefetch resource types by make_cds_request.py, from the live discovery
# document) and runs build/bench/cds_bench on it.
#
#   bench/cds_call.sh [--patient FILE] [google-benchmark flags...]
#
# e.g. bench/cds_call.sh --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
set -euo pipefail
cd "$(dirname "$0")/.."

PATIENT="${REGENPATH_SHARED_DIR:-../shared}/testdata/synthea/r4-bundles-pain-subset/Loma_Johns_0f30cacb-3348-4baf-8946-cd2175a750b3.json"
BIN="${REGENPATH_BIN:-build/regenpath}"
BENCH="${REGENPATH_CDS_BENCH:-build/bench/cds_bench}"
if [ "${1:-}" = "--patient" ]; then PATIENT="$2"; shift 2; fi
[ -x "$BIN" ] || { echo "cds_call.sh: $BIN not built (cmake --build build)" >&2; exit 2; }
[ -x "$BENCH" ] || { echo "cds_call.sh: $BENCH not built (cmake --build build --target cds_bench)" >&2; exit 2; }

WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
printf 'host: 127.0.0.1\nport: %s\ndata_dir: data\nlog_level: warn\n' "$PORT" > "$WORK/config.yaml"
"$BIN" serve --insecure-dev --config "$WORK/config.yaml" 2> "$WORK/server.log" &
SERVER=$!
cleanup() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/cds-services" > "$WORK/discovery.json" ||
  { echo "cds_call.sh: the server did not answer discovery" >&2; cat "$WORK/server.log" >&2; exit 1; }
python3 bench/make_cds_request.py "$WORK/discovery.json" "$PATIENT" > "$WORK/request.json"
echo "request: $(wc -c < "$WORK/request.json") bytes of JSON for $(basename "$PATIENT")"
"$BENCH" --request="$WORK/request.json" "$@"
