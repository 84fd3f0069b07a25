#!/usr/bin/env bash
# The benchmark suite against onnxruntime-node on this machine's adapter (see bench/suite.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prepare.sh
npx tsx bench/suite.ts "$@"
