#!/usr/bin/env bash
# Side by side, whole process: `regenpath assess --format json` once per
# Synthea bundle (14 processes a round) with two builds, alternated round by
# round so both see the same machine. Prints the median CPU (user + system)
# and wall time of a round for each, and their ratio (new / old).
#
#   bench/assess_throughput_ab.sh OLD/regenpath NEW/regenpath [ROUNDS=9]
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$1"; NEW="$2"; ROUNDS="${3:-9}"
DATA_DIR="${DATA_DIR:-../shared/testdata/synthea/r4-bundles-pain-subset}"
ROUND='for f in "$0"/*.json; do "$1" assess --now 2026-11-24 --format json "$f" > /dev/null; done'
for round in $(seq "$ROUNDS"); do
  for side in old new; do
    bin="$OLD"; [ "$side" = new ] && bin="$NEW"
    /usr/bin/time -f "$side %U %S %e" sh -c "$ROUND" "$DATA_DIR" "$bin" 2>&1 >/dev/null | tail -1
  done
done | /usr/bin/python3 -c '
import sys, statistics
cpu, wall = {}, {}
for line in sys.stdin:
    side, user, system, elapsed = line.split()
    cpu.setdefault(side, []).append(float(user) + float(system))
    wall.setdefault(side, []).append(float(elapsed))
for name, rows in (("CPU", cpu), ("wall", wall)):
    old, new = statistics.median(rows["old"]), statistics.median(rows["new"])
    count = len(rows["old"])
    print(f"{name:4} s per round: old median {old:.3f} | new median {new:.3f} | new/old {new/old:.3f} ({count} rounds each)")
'
