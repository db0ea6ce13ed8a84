#!/usr/bin/env bash
# The set-up command: installs the Debian dependencies, builds regenpath in
# Release (build/regenpath) and runs the main job on its embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build

SHARED="${REGENPATH_SHARED_DIR:-../shared}"
echo
echo "== regenpath fhirpath on the FHIR example patient =="
build/regenpath fhirpath --typed "Patient.name.where(use = 'official').given" \
  "$SHARED/testdata/fhirpath/official/input-r4-json/patient-example.json"
