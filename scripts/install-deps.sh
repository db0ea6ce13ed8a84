#!/usr/bin/env bash
# Installs every Debian 12 package regenpath needs to build and test.
# Idempotent; runs apt-get update first. Needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git python3 python3-yaml python3-jsonschema
  clang libclang-rt-14-dev
  # libraries (see README: Dependencies)
  libsimdjson-dev
  libboost1.81-dev libboost-json1.81-dev
  libre2-dev libyaml-cpp-dev libcli11-dev libfmt-dev libspdlog-dev
  libexpected-dev libhowardhinnant-date-dev
  libssl-dev libsqlite3-dev libpq-dev libicu-dev
  libgoogle-perftools-dev  # tcmalloc_minimal, the executables' allocator (CMake REGENPATH_MALLOC)
  zlib1g-dev  # regenpath screen reads .ndjson.gz
  # the Python binding (src/python) and its Dask test and example (run with /usr/bin/python3)
  pybind11-dev python3-dev python3-distributed
  # tests and benchmarks (wrk and python3-cryptography: bench/cds_load.sh [--auth])
  libgtest-dev libgmock-dev libbenchmark-dev wrk python3-cryptography
  # the registry statistics are checked against R (tests/registry/stats/expected.R)
  r-cran-survival
  # the registry tests start a real PostgreSQL 15 in a temp dir (tests/registry/test_postgres.h)
  postgresql-15
  # the web app's browser tests (tests/web/): headless Debian chromium driven by Selenium; npm installs
  # axe-core for the accessibility check into build/ (scripts/setup-web-test.sh), never into the repository
  chromium chromium-driver python3-selenium
)

# npm: machines of this kind ship Node.js (with its own npm) from NodeSource, whose nodejs package
# conflicts with Debian's npm package; ask apt for npm only where no npm is on the PATH.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
echo "install-deps: ${#PACKAGES[@]} packages present"
