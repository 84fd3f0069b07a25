#!/usr/bin/env bash
# Runs ON the bare GPU machine, from a copy of the working tree that carries .device/ (made by
# scripts/device-pack.sh): unpacks node, dawn.node, onnxruntime, the Vulkan loader and the models
# into a scratch folder, points the loader at the NVIDIA driver, then runs the bundled suite
# (bench/suite.ts) and the quant bench within a time budget. Everything it reports goes to $OUT:
#   <device>.md/.json, quant-<device>.md, adapter.json, device-run.log (+ vulkan-debug.txt on failure).
# Uses only bash, coreutils and the pack (busybox xz where xz is missing); never the system node.
# Knobs (env): ANYBIT_BENCH_QUICK=1 (--quick), ANYBIT_BENCH_BUDGET_S (no new suite row after it,
# default 240), ANYBIT_QUANT_S (quant bench limit, default 150; 0 skips it), ANYBIT_DEVICE_TOTAL_S
# (hard limit for the whole script, default 420), ANYBIT_BENCH_ARGS (more suite flags, e.g.
# "--only gemv"), ANYBIT_DEVICE_RT (scratch folder, default /tmp/anybit-device).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PACK=$REPO/.device
OUT=${OUT:-$REPO/bench/results}
RT=${ANYBIT_DEVICE_RT:-${TMPDIR:-/tmp}/anybit-device}
BUDGET=${ANYBIT_BENCH_BUDGET_S:-240}
QUANT_S=${ANYBIT_QUANT_S:-150}
TOTAL=${ANYBIT_DEVICE_TOTAL_S:-420}
QUICK=${ANYBIT_BENCH_QUICK:+--quick}
read -r -a EXTRA <<<"${ANYBIT_BENCH_ARGS:-}"
mkdir -p "$OUT" || exit 1
exec > >(tee -a "$OUT/device-run.log") 2>&1
T0=$(date +%s)
say() { echo "device-run [$(( $(date +%s) - T0 ))s]: $*"; }
left() { echo $(( TOTAL - ($(date +%s) - T0) )); }
min() { echo $(( $1 < $2 ? $1 : $2 )); }
[ -f "$PACK/PACK.txt" ] || { say "no $PACK/PACK.txt: run scripts/device-pack.sh here and carry .device"; exit 1; }
grep -v $'\t' "$PACK/PACK.txt"
say "$(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
command -v nvidia-smi >/dev/null && nvidia-smi -L

# 1. Unpack: *.xz to the same path without .xz, everything else copied.
if command -v xz >/dev/null; then XZCAT=(xz -dc); else XZCAT=("$PACK/bin/busybox" xzcat); fi
rm -rf "$RT" && mkdir -p "$RT" || exit 1
(cd "$PACK" && find . -type f) | while read -r f; do
  mkdir -p "$RT/$(dirname "$f")"
  case $f in
    *.xz) "${XZCAT[@]}" "$PACK/$f" >"$RT/${f%.xz}" || { echo "unpack failed: $f"; exit 1; } ;;
    *) cp "$PACK/$f" "$RT/$f" ;;
  esac
done || exit 1
chmod +x "$RT/bin/node"
ln -sf libvulkan.so.1 "$RT/lib/libvulkan.so"
say "unpacked into $RT ($(du -sh "$RT" | cut -f1))"
NODE=$RT/bin/node

# 2. Libraries: our Vulkan loader only where the system has none; the NVIDIA driver's folders.
has_lib() { { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q "$1" || ls /usr/lib/x86_64-linux-gnu/"$1" /usr/lib64/"$1" /lib/x86_64-linux-gnu/"$1" >/dev/null 2>&1; }
# The GL dispatch libraries the NVIDIA ICD needs (packed .debs), where missing and we are root.
if ! has_lib libGLdispatch.so.0 && [ "$(id -u)" = 0 ] && ls "$PACK"/debs/*.deb >/dev/null 2>&1; then
  for f in "$PACK"/debs/*.deb; do dpkg -x "$f" / || say "could not unpack $f"; done
  ldconfig 2>/dev/null
  say "installed the GL dispatch libraries from the pack"
fi
LIBS=
has_lib libvulkan.so.1 || LIBS=$RT/lib
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu/nvidia/current; do [ -d "$d" ] && LIBS=${LIBS:+$LIBS:}$d; done
export LD_LIBRARY_PATH=${LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if ! "$NODE" -e "require('$RT/node_modules/webgpu/dist/linux-x64/dawn.node')" 2>/dev/null; then
  say "dawn.node does not load with the system libstdc++; using the packed one"
  export LD_LIBRARY_PATH=$RT/lib-fallback${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  "$NODE" -e "require('$RT/node_modules/webgpu/dist/linux-x64/dawn.node')" || { say "dawn.node still does not load"; exit 1; }
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json /usr/local/share/vulkan/icd.d/nvidia_icd*.json; do
    [ -f "$icd" ] && { export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; break; }
  done
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$RT/xdg} ANYBIT_TUNING_DIR=$RT/tuning
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
say "node $("$NODE" --version); VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}; LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# 3. The adapter; on failure, the loader's own account of why.
if ! timeout 60 "$NODE" "$RT/app/suite.mjs" --probe >"$OUT/adapter.json"; then
  rm -f "$OUT/adapter.json"
  say "no WebGPU adapter; loader debug output in vulkan-debug.txt"
  ls -l /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1
  VK_LOADER_DEBUG=all timeout 60 "$NODE" "$RT/app/suite.mjs" --probe 2>&1 | head -c 4000000 >"$OUT/vulkan-debug.txt"
  exit 3
fi
grep -m1 '"description"' "$OUT/adapter.json"

# 4. The suite (rows stop starting after $BUDGET s; hard stop 60 s later or at $TOTAL s in all),
#    then the quant bench with what is left.
ORT=; [ -d "$RT/node_modules/onnxruntime-node" ] || ORT=--no-ort
HARD=$(min $((BUDGET + 60)) "$(left)")
say "suite ${QUICK:-full}, budget ${BUDGET}s, hard limit ${HARD}s"
timeout -k 10 "$HARD" "$NODE" "$RT/app/suite.mjs" $QUICK $ORT --budget-s "$BUDGET" --out "$OUT" \
  --ocr-dir "$RT/models/ocr" --rlfn-weights "$RT/models/rlfn_x4.pth" ${EXTRA[@]+"${EXTRA[@]}"}
rc=$?
say "suite exit $rc$([ $rc -ge 124 ] && echo ': stopped at the hard limit; the report has the rows done before it')"
QHARD=$(min "$QUANT_S" $(( $(left) - 15 )))
if [ "$QHARD" -ge 40 ]; then
  # Its own --budget-s stops new rows early enough for it to write its report.
  (cd "$RT" && timeout -k 10 "$QHARD" "$NODE" app/quant.mjs $QUICK --budget-s $((QHARD - 25)))
  say "quant bench exit $?"
  cp "$RT"/bench/results/quant-* "$OUT/" 2>/dev/null
else
  say "quant bench skipped (ANYBIT_QUANT_S=$QUANT_S, $(left)s left)"
fi
say "done; files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
