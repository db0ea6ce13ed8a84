#!/usr/bin/env bash
# Load test of `regenpath serve` on loopback with wrk: POST patient-view with
# a realistic prefetch (one Synthea patient of ../shared/testdata, restricted
# to the prefetch resource types by make_cds_request.py), then an optional
# soak that samples the server's resident memory from /proc.
#
#   bench/cds_load.sh [--duration 30] [--connections 32] [--threads 2]
#                     [--soak 300] [--patient FILE] [--server-threads N]
#                     [--auth [--tokens N] [--alg ES384|RS384]] [--faults]
#
# --faults (issue 13; without --auth): after the normal run, a second run of
# the same length while bench/fault_traffic.py sends calls whose FHIR fetch
# stalls (a fhirServer that accepts and never answers) and malformed requests
# in parallel (FAULT_RATE=N malformed requests per second per client, default
# 100; 0 = unpaced; FAULT_STALLED / FAULT_MALFORMED: clients of each, default 4 / 2); compare the two runs' throughput, latency and errors.
#
# Prints throughput, latency percentiles (p50/p90/p99), errors (socket errors
# and non-2xx answers), the server's RSS over the run, and the machine's load
# average before and after (the machine is shared: read the figures with it).
# Authentication is off (--insecure-dev) unless --auth: then make_tokens.py
# (python3-cryptography) signs N tokens beforehand (ES384 unless --alg RS384),
# one per request (each jti is accepted once), and the server verifies every one.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=30
CONNECTIONS=32
THREADS=2
SOAK=0
SERVER_THREADS=0
AUTH=0
FAULTS=0
TOKENS=40000
PATIENT="${REGENPATH_SHARED_DIR:-../shared}/testdata/synthea/r4-bundles-pain-subset/Loma_Johns_0f30cacb-3348-4baf-8946-cd2175a750b3.json"
BIN="${REGENPATH_BIN:-build/regenpath}"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --soak) SOAK="$2"; shift 2 ;;
    --patient) PATIENT="$2"; shift 2 ;;
    --server-threads) SERVER_THREADS="$2"; shift 2 ;;
    --auth) AUTH=1; shift ;;
    --tokens) TOKENS="$2"; shift 2 ;;
    --alg) export CDS_TOKEN_ALG="$2"; shift 2 ;;
    --faults) FAULTS=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "cds_load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "cds_load.sh: $BIN not built (cmake --build build)" >&2; exit 2; }

source bench/serve_lib.sh
WORK="$(mktemp -d)"
PORT="$(bench_free_port)"
cat > "$WORK/config.yaml" <<YAML
host: 127.0.0.1
port: $PORT
threads: $SERVER_THREADS
data_dir: data
log_level: warn
YAML
URL="http://127.0.0.1:$PORT/cds-services/regenpath-patient-view"
if [ "$FAULTS" = 1 ]; then
  [ "$AUTH" = 1 ] && { echo "cds_load.sh: --faults runs without --auth" >&2; exit 2; }
  SILENT_PORT="$(bench_free_port)"
  cat >> "$WORK/config.yaml" <<YAML
fhir_client:
  allow_http: true
  timeout: 3
  call_budget: 5
  allowed_servers: ["http://127.0.0.1:$SILENT_PORT/fhir"]
  allowed_private_networks: [127.0.0.0/8]
YAML
fi
MODE=(--insecure-dev)
CURL_AUTH=()
export CDS_TOKENS_FILE="" CDS_WRK_THREADS="$THREADS"
if [ "$AUTH" = 1 ]; then
  python3 bench/make_tokens.py bench-ehr "$URL" "$TOKENS" "$WORK/jwks.json" "$WORK/all-tokens.txt" \
    "http://127.0.0.1:$PORT/cds-services" "$URL" || { echo "cds_load.sh: --auth needs python3-cryptography" >&2; exit 2; }
  printf 'auth:\n  issuers:\n    - {issuer: bench-ehr, jwks_file: jwks.json}\n' >> "$WORK/config.yaml"
  MODE=()
  WARMUP_TOKENS=$((TOKENS / 5))
  sed -n '3,'"$((WARMUP_TOKENS + 2))"'p' "$WORK/all-tokens.txt" > "$WORK/warmup-tokens.txt"
  sed -n "$((WARMUP_TOKENS + 3))"',$p' "$WORK/all-tokens.txt" > "$WORK/tokens.txt"
fi
token_line() { sed -n "$1p" "$WORK/all-tokens.txt"; }
bench_start_server "$BIN" "${MODE[@]}"
[ "$AUTH" = 1 ] && CURL_AUTH=(-H "Authorization: Bearer $(token_line 1)")
curl -sf "${CURL_AUTH[@]}" "http://127.0.0.1:$PORT/cds-services" > "$WORK/discovery.json"
python3 bench/make_cds_request.py "$WORK/discovery.json" "$PATIENT" > "$WORK/request.json"
export CDS_BODY_FILE="$WORK/request.json"
[ "$AUTH" = 1 ] && CURL_AUTH=(-H "Authorization: Bearer $(token_line 2)")
STATUS=$(curl -s -o "$WORK/response.json" -w '%{http_code}' "${CURL_AUTH[@]}" -H 'Content-Type: application/json' \
  --data-binary @"$WORK/request.json" "$URL")
[ "$STATUS" = 200 ] || { echo "cds_load.sh: the request answers $STATUS" >&2; cat "$WORK/response.json" >&2; exit 1; }

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
echo "patient:     $(basename "$PATIENT")"
echo "request:     $(stat -c %s "$WORK/request.json") bytes, response $(stat -c %s "$WORK/response.json") bytes"
echo "machine:     $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server:      $BIN serve ${MODE[*]:-(JWT, ${CDS_TOKEN_ALG:-ES384}, verified on every request)} (threads: ${SERVER_THREADS/#0/one per core}), RSS $(rss_kib) KiB"

# Warm-up (page cache, allocator, branch predictors).
[ "$AUTH" = 1 ] && CDS_TOKENS_FILE="$WORK/warmup-tokens.txt"
wrk -t "$THREADS" -c "$CONNECTIONS" -d 5s -s bench/cds_load.lua "$URL" > /dev/null
[ "$AUTH" = 1 ] && CDS_TOKENS_FILE="$WORK/tokens.txt"

run() {  # run SECONDS LABEL: wrk for SECONDS while sampling RSS every 10 s
  local seconds="$1" label="$2" samples=()
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${seconds}s" --timeout 10s --latency -s bench/cds_load.lua "$URL" \
    > "$WORK/wrk.txt" &
  local wrk_pid=$!
  samples+=("$(rss_kib)")
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 10
    kill -0 "$wrk_pid" 2>/dev/null && samples+=("$(rss_kib)")
  done
  wait "$wrk_pid"
  samples+=("$(rss_kib)")
  local rps p50 p90 p99 errors non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk.txt")
  p90=$(awk '$1=="90%" {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")
  errors=$(awk '/Socket errors/ {print $0}' "$WORK/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
  echo "== $label: ${seconds}s, $CONNECTIONS connections, $THREADS wrk threads"
  echo "throughput:  $rps requests/s ($(awk '/requests in/ {print $1}' "$WORK/wrk.txt") requests)"
  echo "latency:     p50 $p50  p90 $p90  p99 $p99"
  echo "errors:      ${errors:-no socket errors}; non-2xx: ${non2xx:-0}"
  echo "RSS (KiB):   ${samples[*]}"
}
run "$DURATION" "load"
if [ "$SOAK" -gt 0 ]; then run "$SOAK" "soak"; fi
if [ "$FAULTS" = 1 ]; then
  /usr/bin/python3 bench/fault_traffic.py "$PORT" "$SILENT_PORT" "$WORK/discovery.json" "${FAULT_STALLED:-4}" "${FAULT_MALFORMED:-2}" "${FAULT_RATE:-100}" \
    > "$WORK/faults.txt" &
  FAULT_PID=$!
  sleep 1
  run "$DURATION" "load with faults (${FAULT_STALLED:-4} clients of stalled fetches, ${FAULT_MALFORMED:-2} of malformed requests at ${FAULT_RATE:-100}/s each)"
  kill -TERM "$FAULT_PID"; wait "$FAULT_PID" || true
  cat "$WORK/faults.txt"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^regenpath_(errors_total|http_requests_total\{route="/cds-services/regenpath-patient-view")' || true
kill -TERM "$SERVER"
if wait "$SERVER"; then echo "server:      exited 0 after SIGTERM"; else echo "server:      exit status $? after SIGTERM"; fi
trap 'rm -rf "$WORK"' EXIT
