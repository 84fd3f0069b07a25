#!/usr/bin/env bash
# The test command (README, CI): installs what it needs, then type-checks and runs every test.
# GPU suites run on the real WebGPU adapter (Mesa lavapipe where there is no GPU); under CI a
# missing adapter fails the run instead of skipping those suites.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prepare.sh
if [ "${CI:-}" = "true" ]; then export ANYBIT_REQUIRE_GPU="${ANYBIT_REQUIRE_GPU:-1}"; fi
export ANYBIT_TUNING_DIR="${ANYBIT_TUNING_DIR:-$(mktemp -d)}"
npx tsc --noEmit
npx vitest run "$@"
