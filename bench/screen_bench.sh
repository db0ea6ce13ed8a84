#!/usr/bin/env bash
# Throughput of `regenpath screen` on a generated population, against the
# floor (a bare simdjson parse of the same files, bench/ndjson_floor), in the
# same run; parallel efficiency at 2 jobs; peak RSS; and, with --dask, the
# overhead of examples/dask_screen.py on a LocalCluster of 2 workers over
# `regenpath screen --jobs 2` (shuffled: DASK_SHARDS map and reduce tasks,
# 2 by default; DASK_NO_SHUFFLE=1 runs one task per shard instead).
#
#   /usr/bin/python3 bench/make_population.py --patients 1000 --output /tmp/population-1k
#   bench/screen_bench.sh [--dask] [--memory 512M] /tmp/population-1k
#   (REGENPATH, FLOOR and PYMODULE name another build's binary, floor and Python module, for an A/B)
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
INPUT="$(realpath "${1:?usage: $0 [--dask] [--memory SIZE] POPULATION_DIR}")"
REGENPATH="${REGENPATH:-build/regenpath}"
PYMODULE="${PYMODULE:-build/python}"  # where the regenpath Python module is (for --dask)
FLOOR="${FLOOR:-build/bench/ndjson_floor}"
NOW=2025-06-01
WORK=$(mktemp -d /tmp/regenpath-screen-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# Warm the page cache so that every measurement reads from memory.
cat "$INPUT"/* > /dev/null
BYTES=$(du -cb "$INPUT"/*.ndjson* | tail -1 | cut -f1)
echo "input: $INPUT, $(awk -v b="$BYTES" 'BEGIN{printf "%.1f MB", b/1e6}'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

"$FLOOR" "$INPUT" | tee "$WORK/floor.txt"
# The floor per CPU-second (the wall-clock figure is inflated by a loaded machine).
FLOOR_MBS=$(sed -E 's/.*cpu [0-9.]+ s: ([0-9.]+) MB\/s/\1/' "$WORK/floor.txt")

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
  printf "screen --jobs 1: %d patients in %.2f s wall: %.1f MB/s, %.0f patients/s; peak RSS %.0f MB\n",
         p, s1, mbs, p / s1, r1 / 1024
  printf "  per CPU-second (user+sys %.2f s, which a loaded machine does not inflate): %.1f MB/s, %.0f patients/s; floor/screen (both per CPU-second) = %.1fx\n",
         c1, b / 1e6 / c1, p / c1, f / (b / 1e6 / c1)
  printf "screen --jobs 2: %.2f s: %.1f MB/s, %.0f patients/s; parallel efficiency %.2f; peak RSS %.0f MB; output identical to --jobs 1: %s\n",
         s2, b / 1e6 / s2, p / s2, s1 / (2 * s2), r2 / 1024, same
  printf "  CPU seconds at 2 jobs / at 1 job: %.2f (1.00 = no parallel overhead)\n", c2 / c1 }'

if [ "$DASK" = 1 ]; then
  PYTHONPATH="$PYMODULE:examples" /usr/bin/time -f "%e %U %S" -o "$WORK/time-dask" /usr/bin/python3 examples/dask_screen.py \
    --local 2 --shards "${DASK_SHARDS:-2}" ${DASK_NO_SHUFFLE:+--no-shuffle} --now "$NOW" --memory "$MEMORY" \
    --output "$WORK/out-dask" "$INPUT" 2> "$WORK/log-dask"
  read -r SD CD < <(awk '{print $1, $2 + $3}' "$WORK/time-dask")
  read -r STARTUP SCREEN SHUTDOWN SHARDCPU < <(sed -nE 's/^dask_screen_seconds: startup ([0-9.]+) screen ([0-9.]+) shutdown ([0-9.]+) shard_cpu ([0-9.]+)/\1 \2 \3 \4/p' "$WORK/log-dask")
  for f in patients.ndjson patients.csv summary.json MeasureReport.json Group.json run.json issues.ndjson; do
    cmp -s "$WORK/out-2/$f" "$WORK/out-dask/$f" || { SAMED=NO; break; }
    SAMED=yes
  done
  MODE=$([ -n "${DASK_NO_SHUFFLE:-}" ] && echo "one task per shard" || echo "shuffled")
  awk -v mode="$MODE" -v sd="$SD" -v s2="$S2" -v c2="$C2" -v same="$SAMED" -v shards="${DASK_SHARDS:-2}" -v cd="$CD" -v scpu="$SHARDCPU" -v up="$STARTUP" -v sc="$SCREEN" -v down="$SHUTDOWN" 'BEGIN {
    printf "dask LocalCluster (2 workers, %s shards, %s): %.2f s in all = start-up %.2f + tasks and merge %.2f + shutdown %.2f; output identical: %s\n",
           shards, mode, sd, up, sc, down, same
    printf "  overhead over screen --jobs 2 (wall %.2f s): %+.0f %% in all, %+.0f %% without start-up and shutdown\n",
           s2, (sd / s2 - 1) * 100, (sc / s2 - 1) * 100
    printf "  CPU (user+sys): the tasks %.2f s, %+.0f %% over screen --jobs 2 (%.2f s); with every cluster process (Python, scheduler, start-up) %.2f s, %+.0f %%\n",
           scpu, (scpu / c2 - 1) * 100, c2, cd, (cd / c2 - 1) * 100 }'
fi
