#!/usr/bin/env bash
# SDXL spatial VAE, encode + decode of one 256x256 frame: vaec next to diffusers on the same threads.
# usage: bench/run_spatial.sh [threads] [reps]   (needs a Python with torch and diffusers: VAEC_PYTHON)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
reps=${2:-3}
py=${VAEC_PYTHON:-python3}
cmake --build build -j >/dev/null
OMP_NUM_THREADS=$threads ./build/bin/vaec_bench spatial_sdxl_256 "$reps"
"$py" bench/torch_spatial.py "$reps" "$threads"
