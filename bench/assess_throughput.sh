#!/usr/bin/env bash
# Whole-process assessments per second: `regenpath assess --format json` run
# once per Synthea bundle (14 processes per round), R rounds; prints the median
# round time and assessments/s. Usage: bench/assess_throughput.sh [-r ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=7
while getopts "r:" option; do
  case "$option" in
    r) ROUNDS="$OPTARG" ;;
    *) echo "usage: $0 [-r ROUNDS]" >&2; exit 2 ;;
  esac
done
REGENPATH="${REGENPATH:-build/regenpath}"
DATA_DIR="${DATA_DIR:-../shared/testdata/synthea/r4-bundles-pain-subset}"
FILES=("$DATA_DIR"/*.json)
times=()
for ((round = 0; round < ROUNDS; ++round)); do
  start=$(date +%s%N)
  for file in "${FILES[@]}"; do
    "$REGENPATH" assess --now 2026-11-24 --format json "$file" > /dev/null
  done
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
awk -v us="$median" -v n="${#FILES[@]}" 'BEGIN {
  printf "whole process: %d assessments in %.1f ms (median of rounds): %.0f assessments/s, %.2f ms each\n",
         n, us / 1000, n / (us / 1e6), us / 1000 / n }'
