# Sourced by the test and quick-start scripts: installs the WebGPU driver where needed and the
# npm dependencies, and sets the environment Dawn wants.
bash scripts/setup-webgpu.sh
# onnxruntime-node (the test oracle) must not download CUDA parts at install time.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund --loglevel=error
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/anybit-xdg}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
