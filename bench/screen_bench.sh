#!/usr/bin/env bash
# Throughput of `regenpath screen` on a generated population, against the
# floor (a bare simdjson parse of the same files, bench/ndjson_floor), in the
# same run; parallel efficiency at 2 jobs; peak RSS; and, with --dask, the
# overhead of examples/dask_screen.py on a LocalCluster of 2 workers over
# `regenpath screen --jobs 2`.
#
#   /usr/bin/python3 bench/make_population.py --patients 1000 --output /tmp/population-1k
#   bench/screen_bench.sh [--dask] [--memory 512M] /tmp/population-1k
#
# Figures depend on the machine and its load: say which when quoting them.
set -euo pipefail
cd "$(dirname "$0")/.."
DASK=0
MEMORY=512M
while [ $# -gt 1 ]; do
  case "$1" in
    --dask) DASK=1; shift ;;
    --memory) MEMORY="$2"; shift 2 ;;
    *) break ;;
  esac
done
INPUT="${1:?usage: $0 [--dask] [--memory SIZE] POPULATION_DIR}"
REGENPATH="${REGENPATH:-build/regenpath}"
FLOOR="${FLOOR:-build/bench/ndjson_floor}"
NOW=2025-06-01
WORK=$(mktemp -d /tmp/regenpath-screen-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# Warm the page cache so that every measurement reads from memory.
cat "$INPUT"/* > /dev/null
BYTES=$(du -cb "$INPUT"/*.ndjson* | tail -1 | cut -f1)
echo "input: $INPUT, $(awk -v b="$BYTES" 'BEGIN{printf "%.1f MB", b/1e6}'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

"$FLOOR" "$INPUT" | tee "$WORK/floor.txt"
FLOOR_MBS=$(sed -E 's/.*: ([0-9.]+) MB\/s/\1/' "$WORK/floor.txt")

run_screen() {  # jobs -> "seconds maxrss_kb cpu_seconds"
  rm -rf "$WORK/out-$1"
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/time-$1" "$REGENPATH" screen --now "$NOW" --jobs "$1" --memory "$MEMORY" \
    --output "$WORK/out-$1" "$INPUT" 2> "$WORK/log-$1"
  awk '{print $1, $2, $3 + $4}' "$WORK/time-$1"
}
read -r S1 RSS1 C1 < <(run_screen 1)
read -r S2 RSS2 C2 < <(run_screen 2)
PATIENTS=$(wc -l < "$WORK/out-1/patients.ndjson")
cmp -s "$WORK/out-1/patients.ndjson" "$WORK/out-2/patients.ndjson" && SAME=yes || SAME=NO
awk -v b="$BYTES" -v p="$PATIENTS" -v s1="$S1" -v s2="$S2" -v f="$FLOOR_MBS" -v r1="$RSS1" -v r2="$RSS2" -v same="$SAME" -v c1="$C1" -v c2="$C2" 'BEGIN {
  mbs = b / 1e6 / s1
  printf "screen --jobs 1: %d patients in %.2f s: %.1f MB/s, %.0f patients/s per core; floor/screen = %.1fx; peak RSS %.0f MB\n",
         p, s1, mbs, p / s1, f / mbs, r1 / 1024
  printf "  per CPU-second (user+sys %.2f s, which a loaded machine does not inflate): %.1f MB/s, %.0f patients/s; floor/screen = %.1fx\n",
         c1, b / 1e6 / c1, p / c1, f / (b / 1e6 / c1)
  printf "screen --jobs 2: %.2f s: %.1f MB/s, %.0f patients/s; parallel efficiency %.2f; peak RSS %.0f MB; output identical to --jobs 1: %s\n",
         s2, b / 1e6 / s2, p / s2, s1 / (2 * s2), r2 / 1024, same
  printf "  CPU seconds at 2 jobs / at 1 job: %.2f (1.00 = no parallel overhead)\n", c2 / c1 }'

if [ "$DASK" = 1 ]; then
  PYTHONPATH="build/python:examples" /usr/bin/time -f "%e" -o "$WORK/time-dask" /usr/bin/python3 examples/dask_screen.py \
    --local 2 --shards "${DASK_SHARDS:-2}" --now "$NOW" --memory "$MEMORY" --output "$WORK/out-dask" "$INPUT" 2> "$WORK/log-dask"
  SD=$(cat "$WORK/time-dask")
  cmp -s "$WORK/out-2/patients.ndjson" "$WORK/out-dask/patients.ndjson" && SAMED=yes || SAMED=NO
  awk -v sd="$SD" -v s2="$S2" -v same="$SAMED" -v shards="${DASK_SHARDS:-2}" 'BEGIN {
    printf "dask LocalCluster (2 workers, %s shards, incl. cluster start-up): %.2f s; overhead over screen --jobs 2: %+.0f %%; output identical: %s\n",
           shards, sd, (sd / s2 - 1) * 100, same }'
fi
