#!/usr/bin/env bash
# Builds llama.cpp's own server and benchmark tools (llama-server, llama-batched-bench,
# llama-bench) from the llama.cpp source bundled in node-llama-cpp, the same release as our
# prebuilt kernels, CPU only, with the same threading as those kernels (ggml thread pool, no
# OpenMP), without the web UI or OpenSSL. No network; output in bench/peer/build/bin
# (git-ignored). Run once: bash bench/peer/build.sh [jobs]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
src="$here/llama.cpp"
jobs="${1:-2}"
if [ ! -d "$src/.git" ]; then
  git clone --quiet "$bundle" "$src"
fi
cmake -S "$src" -B "$here/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_OPENMP=OFF \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF \
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$here/build/bin" >/dev/null
cmake --build "$here/build" -j "$jobs" --target llama-server llama-batched-bench llama-bench
ls -l "$here/build/bin"
