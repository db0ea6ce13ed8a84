#!/usr/bin/env bash
# Installs what the web app's browser tests (tests/web/browser_test.py) inject into the page:
# axe-core from npm, into BUILD_DIR/web-test/node_modules (never into the repository).
# Idempotent: does nothing when it is there. Usage: scripts/setup-web-test.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
AXE_VERSION="4.14.1"
TARGET="$BUILD_DIR/web-test"
if [ -f "$TARGET/node_modules/axe-core/axe.min.js" ]; then
  exit 0
fi
mkdir -p "$TARGET"
npm install --no-audit --no-fund --silent --prefix "$TARGET" "axe-core@$AXE_VERSION" >/dev/null
echo "setup-web-test: axe-core $(node -p "require('./$TARGET/node_modules/axe-core/package.json').version") in $TARGET"
