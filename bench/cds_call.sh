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

source bench/serve_lib.sh
WORK="$(mktemp -d)"
PORT="$(bench_free_port)"
printf 'host: 127.0.0.1\nport: %s\ndata_dir: data\nlog_level: warn\n' "$PORT" > "$WORK/config.yaml"
bench_start_server "$BIN" --insecure-dev
curl -sf "http://127.0.0.1:$PORT/cds-services" > "$WORK/discovery.json" ||
  { echo "cds_call.sh: the server did not answer discovery" >&2; cat "$WORK/server.log" >&2; exit 1; }
python3 bench/make_cds_request.py "$WORK/discovery.json" "$PATIENT" > "$WORK/request.json"
echo "request: $(wc -c < "$WORK/request.json") bytes of JSON for $(basename "$PATIENT")"
"$BENCH" --request="$WORK/request.json" "$@"
