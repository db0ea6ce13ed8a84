#!/usr/bin/env bash
# Side by side: assessments per second of two builds of assess_bench (e.g. the
# last landed commit and the working tree), alternated run by run so both see
# the same machine, on the Synthea bundles and on the clinical scenarios
# (whose patients are all alive). Prints the median and the minimum CPU time
# per iteration of each, and their ratio.
#
#   bench/assess_ab.sh OLD/assess_bench NEW/assess_bench [ROUNDS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$1"; NEW="$2"; ROUNDS="${3:-5}"
for set in synthea scenarios; do
  if [ "$set" = scenarios ]; then export ASSESS_BENCH_DIR="$PWD/tests/scenarios"; else unset ASSESS_BENCH_DIR; fi
  for round in $(seq "$ROUNDS"); do
    for side in old new; do
      bin="$OLD"; [ "$side" = new ] && bin="$NEW"
      "$bin" --benchmark_filter='BM_Assess$' --benchmark_min_time=0.5 --benchmark_repetitions=3 \
        --benchmark_format=csv 2>/dev/null | grep '^"BM_Assess"' | awk -F, -v s="$side" -v set="$set" '{print set, s, $4}'
    done
  done
done | /usr/bin/python3 -c '
import sys, statistics
rows = {}
for line in sys.stdin:
    set_, side, cpu = line.split()
    rows.setdefault((set_, side), []).append(float(cpu))
for set_ in ("synthea", "scenarios"):
    old, new = rows.get((set_, "old"), []), rows.get((set_, "new"), [])
    if not old or not new: continue
    mo, mn = statistics.median(old), statistics.median(new)
    print(f"{set_:9} CPU ms/iteration  old median {mo:.2f} min {min(old):.2f} | new median {mn:.2f} min {min(new):.2f}"
          f" | new/old median {mn/mo:.3f} min {min(new)/min(old):.3f}  ({len(old)}+{len(new)} samples)")
'
