#!/usr/bin/env bash
# Quick start: sets up, builds the example MLP and CNN, compiles them to bundles, runs them on
# WebGPU and checks the outputs against the float64 reference interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prepare.sh
out=out/examples
npx tsx examples/build-examples.ts "$out"
declare -A shape=([mlp]=4x64 [cnn]=1x3x32x32)
for m in mlp cnn; do
  echo "== $m"
  node bin/anybit.mjs compile "$out/$m.abir" -o "$out/$m.bundle" --input "x=${shape[$m]}"
  node bin/anybit.mjs run "$out/$m.bundle" --input "x=$out/$m-input.npy" --output-dir "$out/$m-out"
  npx tsx examples/check-output.ts "$out/$m.abir" "$out/$m-input.npy" "$out/$m-out/y.npy"
done
