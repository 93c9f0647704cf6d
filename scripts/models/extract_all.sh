#!/usr/bin/env bash
# Regenerates configs/models/: writes the ONNX graphs (build_models.py, Debian's python3-onnx) and
# runs `rctune extract` on each with the shapes docs/models.md names.
#   scripts/models/extract_all.sh [ONNX_DIR [OUT_DIR]]
#     (default ONNX_DIR: build/models; OUT_DIR: configs/models, where the shipped configs are)
# RCTUNE names the rctune binary (default: build/bin/rctune).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rctune=${RCTUNE:-$root/build/bin/rctune}
onnx_dir=${1:-$root/build/models}
out=${2:-$root/configs/models}

/usr/bin/python3 "$root/scripts/models/build_models.py" "$onnx_dir"
mkdir -p "$out"
extract() {
  local name=$1
  shift
  echo "== $name"
  "$rctune" extract "$onnx_dir/$name.onnx" --out "$out/$name.yaml" "$@"
}
extract resnet50 --batch 1
extract mobilenet_v2 --batch 1
extract bert_base --batch 1 --seq 128
extract llama3_8b_layer_prefill --batch 1 --seq 128
# Decode: one new token attends to 2047 cached ones, 2048 in all.
extract llama3_8b_layer_decode --batch 1 --seq 1 --dim past=2047 --dim context=2048
extract mixtral_8x7b_expert --dim tokens=16
