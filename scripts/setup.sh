#!/usr/bin/env bash
# The set-up command: installs the Debian dependencies, builds regenpath in
# Release (build/regenpath) and runs the main job on its embedded defaults:
# the assessment of a Synthea patient, as the text report a clinician reads.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build

SHARED="${REGENPATH_SHARED_DIR:-../shared}"
PATIENT="$SHARED/testdata/synthea/r4-bundles-pain-subset/Pierre_Bosco_85812c4a-7b8e-4754-aaa4-64b3aef16f7e.json"
echo
echo "== regenpath assess: a Synthea patient with knee osteoarthritis (built-in knowledge base) =="
build/regenpath assess --now 2026-06-01 --format text "$PATIENT"
