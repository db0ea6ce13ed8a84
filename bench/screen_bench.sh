#!/usr/bin/env bash
# Throughput of `regenpath screen` on a generated population, against the
# floor (a bare simdjson parse of the same files, bench/ndjson_floor), in the
# same run; parallel efficiency at 2 jobs; peak RSS; and, with --dask, the
# overhead of examples/dask_screen.py on a LocalCluster over `regenpath
# screen --jobs 2`, in each mode of DASK_MODES (default "threads processes":
# dask_screen.py --local 2, one worker of 2 threads in the driver process,
# its default; and --local-processes, 2 worker processes under nannies),
# DASK_ROUNDS rounds (default 1) alternating the modes, with medians.
# Shuffled: DASK_SHARDS reduce tasks (2 by default) and DASK_MAPS map tasks
# (default: as many as shards), each of DASK_JOBS threads (default 1);
# DASK_NO_SHUFFLE=1 runs one task per shard.
#
#   /usr/bin/python3 bench/make_population.py --patients 1000 --output /tmp/population-1k
#   bench/screen_bench.sh [--dask] [--memory 512M] /tmp/population-1k
#   DASK_ROUNDS=3 bench/screen_bench.sh --dask /tmp/population-10k
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
# The parse alone, files mapped (no read copy): a lower floor than any reader that copies.
# (An older floor binary has no --mapped: that ratio is then not printed.)
MAPPED_MBS=0
if "$FLOOR" --mapped "$INPUT" > "$WORK/floor-mapped.txt" 2>/dev/null; then
  cat "$WORK/floor-mapped.txt"
  MAPPED_MBS=$(sed -E 's/.*cpu [0-9.]+ s: ([0-9.]+) MB\/s/\1/' "$WORK/floor-mapped.txt")
fi

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
awk -v b="$BYTES" -v p="$PATIENTS" -v s1="$S1" -v s2="$S2" -v f="$FLOOR_MBS" -v fm="$MAPPED_MBS" -v r1="$RSS1" -v r2="$RSS2" -v same="$SAME" -v c1="$C1" -v c2="$C2" 'BEGIN {
  mbs = b / 1e6 / s1
  printf "screen --jobs 1: %d patients in %.2f s wall: %.1f MB/s, %.0f patients/s; peak RSS %.0f MB\n",
         p, s1, mbs, p / s1, r1 / 1024
  printf "  per CPU-second (user+sys %.2f s, which a loaded machine does not inflate): %.1f MB/s, %.0f patients/s; floor/screen (both per CPU-second) = %.1fx\n",
         c1, b / 1e6 / c1, p / c1, f / (b / 1e6 / c1)
  if (fm > 0) printf "  floor (mapped)/screen, both per CPU-second = %.1fx\n", fm / (b / 1e6 / c1)
  printf "screen --jobs 2: %.2f s: %.1f MB/s, %.0f patients/s; parallel efficiency %.2f; peak RSS %.0f MB; output identical to --jobs 1: %s\n",
         s2, b / 1e6 / s2, p / s2, s1 / (2 * s2), r2 / 1024, same
  printf "  CPU seconds at 2 jobs / at 1 job: %.2f (1.00 = no parallel overhead)\n", c2 / c1 }'

if [ "$DASK" = 1 ]; then
  run_dask() {  # mode (threads | processes) -> the run's line of figures; output in $WORK/out-dask-MODE
    rm -rf "$WORK/out-dask-$1"
    PYTHONPATH="$PYMODULE:examples" /usr/bin/time -f "%e %U %S" -o "$WORK/time-dask-$1" /usr/bin/python3 \
      examples/dask_screen.py --local 2 $([ "$1" = processes ] && echo --local-processes) \
      --shards "${DASK_SHARDS:-2}" ${DASK_MAPS:+--maps "$DASK_MAPS"} ${DASK_JOBS:+--jobs "$DASK_JOBS"} \
      ${DASK_NO_SHUFFLE:+--no-shuffle} \
      --now "$NOW" --memory "$MEMORY" --output "$WORK/out-dask-$1" "$INPUT" 2> "$WORK/log-dask-$1"
    local same=yes
    for f in patients.ndjson patients.csv summary.json MeasureReport.json Group.json run.json issues.ndjson; do
      cmp -s "$WORK/out-2/$f" "$WORK/out-dask-$1/$f" || same=NO
    done
    echo "$1 $(awk '{print $1, $2 + $3}' "$WORK/time-dask-$1") $(sed -nE 's/^dask_screen_seconds: startup ([0-9.]+) screen ([0-9.]+) shutdown ([0-9.]+) shard_cpu ([0-9.]+) merge ([0-9.]+)/\1 \2 \3 \4 \5/p' "$WORK/log-dask-$1") $same"
  }
  MODE="$([ -n "${DASK_NO_SHUFFLE:-}" ] && echo "one task per shard" || echo "shuffled, ${DASK_MAPS:-${DASK_SHARDS:-2}} map tasks"), ${DASK_JOBS:-1} thread(s) per task"
  # Rounds alternate the modes, each beside a run of screen --jobs 2 of its
  # own: on a machine whose speed drifts, a mode is compared with the run
  # next to it; the medians over the rounds are printed last.
  : > "$WORK/dask-runs"
  for ROUND in $(seq "${DASK_ROUNDS:-1}"); do
    [ "$ROUND" = 1 ] || read -r S2 RSS2 C2 < <(run_screen 2)
    for M in ${DASK_MODES:-threads processes}; do
      echo "round $ROUND $S2 $C2 $(run_dask "$M") $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$WORK/dask-runs" | awk -v mode="$MODE" -v shards="${DASK_SHARDS:-2}" '{
        split("round r s2 c2 m sd cd up sc down scpu merge same load", k, " ")
        s2 = $3; c2 = $4; m = $5; sd = $6; cd = $7; up = $8; sc = $9; down = $10; scpu = $11; merge = $12
        printf "dask LocalCluster, %s (2 %s, %s shards, %s), round %s (load %s): %.2f s in all = start-up %.2f + tasks and merge %.2f (merge %.2f) + shutdown %.2f; output identical: %s\n",
               m, m == "threads" ? "threads in one worker in the driver process" : "worker processes", shards, mode, $2, $14, sd, up, sc, merge, down, $13
        printf "  overhead over screen --jobs 2 (wall %.2f s): %+.0f %% in all, %+.0f %% without start-up and shutdown\n",
               s2, (sd / s2 - 1) * 100, (sc / s2 - 1) * 100
        printf "  CPU (user+sys): the tasks %.2f s, %+.0f %% over screen --jobs 2 (%.2f s); with every cluster process (Python, scheduler, start-up) %.2f s, %+.0f %%\n",
               scpu, (scpu / c2 - 1) * 100, c2, cd, (cd / c2 - 1) * 100 }'
    done
  done
  if [ "${DASK_ROUNDS:-1}" -gt 1 ]; then
    median() { sort -n | awk '{ v[NR] = $1 } END { printf "%+.0f", v[int((NR + 1) / 2)] }'; }
    for M in ${DASK_MODES:-threads processes}; do
      awk -v m="$M" '$5 == m' "$WORK/dask-runs" > "$WORK/dask-runs-$M"
      echo "median over $(wc -l < "$WORK/dask-runs-$M") rounds, $M: wall $(awk '{ print ($6 / $3 - 1) * 100 }' "$WORK/dask-runs-$M" | median) % over screen --jobs 2 (rounds: $(awk '{ printf "%s%+.0f", (NR > 1 ? " " : ""), ($6 / $3 - 1) * 100 }' "$WORK/dask-runs-$M") %); without start-up and shutdown $(awk '{ print ($9 / $3 - 1) * 100 }' "$WORK/dask-runs-$M" | median) %; CPU of the tasks $(awk '{ print ($11 / $4 - 1) * 100 }' "$WORK/dask-runs-$M" | median) %, of every process $(awk '{ print ($7 / $4 - 1) * 100 }' "$WORK/dask-runs-$M" | median) %"
    done
  fi
fi
