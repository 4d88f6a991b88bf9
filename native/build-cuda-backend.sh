#!/usr/bin/env bash
# Builds llama.cpp's CUDA backend (libggml-cuda.so) for this machine's GPU from the llama.cpp
# source bundled in node-llama-cpp (the release of our prebuilt libraries) and puts it in place of
# the prebuilt one in @node-llama-cpp/linux-x64-cuda, keeping that as libggml-cuda.so.prebuilt.
#
# Why: the prebuilt backend carries machine code for sm_86, 89, 120 and 121 and PTX for 75, 80
# and 90. Hopper (H100, H200) runs the compute_90 PTX, which the driver must compile, and a driver
# older than the toolkit that made the PTX refuses it ("the provided PTX was compiled with an
# unsupported toolchain"; driver 580.159, CUDA 13.0, on an H200), after which ggml aborts the
# process at the first decode. servellm's start-up decode shows that before serving.
#
# Needs CUDA's nvcc (13.x), CMake and git; no network. About 3 minutes on 16 cores for one
# architecture. Usage: bash native/build-cuda-backend.sh [cuda-architectures, default native]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
architectures="${1:-native}"
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
bins="$root/node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda"
work="${TMPDIR:-/tmp}/servellm-cuda-backend"
[ -d "$bins" ] || { echo "@node-llama-cpp/linux-x64-cuda is not installed (npm ci)" >&2; exit 1; }
[ -d "$work/src/.git" ] || git clone --quiet "$bundle" "$work/src"
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$architectures" -DGGML_BACKEND_DL=ON -DBUILD_SHARED_LIBS=ON \
  -DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
  -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_COMMON=OFF >/dev/null
cmake --build "$work/build" -j "$(nproc)" --target ggml-cuda
built="$(find "$work/build" -name libggml-cuda.so | head -1)"
[ -f "$bins/libggml-cuda.so.prebuilt" ] || cp "$bins/libggml-cuda.so" "$bins/libggml-cuda.so.prebuilt"
cp "$built" "$bins/libggml-cuda.so"
echo "installed $built into $bins (the prebuilt one is libggml-cuda.so.prebuilt)"
