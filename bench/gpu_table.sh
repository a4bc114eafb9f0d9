#!/usr/bin/env bash
# bench/gpu_table.sh: the `make bench` table on a GPU, vaec beside PyTorch on cuda (bench/run.sh with
# BENCH_DEVICE=cuda), including the full-size stage-1 step (frozen SDXL VAE + the 309.7M temporal VAE,
# 1x3x17x256x256). A second command after bench/gpu.sh: it reuses the build folder gpu.sh made
# (build-gpu: same configure options, so CMake only adds vaec_bench to it, a minute's build at most), and
# times only kernels that gpu.sh's CUDA tests have checked. On a fresh machine it configures and builds
# build-gpu itself (several minutes). vaec's bf16 mixed precision is not wired into the model yet
# (issue 7): its rows run fp32, so PyTorch runs fp32 too, TF32 off on both sides.
#
# Preparing it (developer machine, from the root of the checkout the device tool sends): .devdeps as in
# bench/gpu.sh's header; the device image has torch but not diffusers, so download its wheel into .whl as
# /work/.library/device/README.md describes (and echo /.whl/ >> .git/info/exclude).
# Running it (the device tool's run, on the machine gpu.sh just used, so build-gpu is still there):
#   run(command="python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl &&
#                export PYTHONPATH=/tmp/site && source .devdeps/env.sh && bash bench/gpu_table.sh",
#       carry=[".devdeps", ".whl"], timeout_s=600)
# Output under $OUT (default build-gpu/out): results.jsonl (one JSON line a row and side), table.txt.
# Without a GPU it says so and exits 2 after configuring: there is nothing to time.
# env: OUT, BUILD (build-gpu), BENCH_REPS (3), VAEC_PYTHON (python3 with torch and diffusers); ROW... args
#      time only those rows (bench/run.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-build-gpu/out}
BUILD=${BUILD:-build-gpu}
mkdir -p "$OUT"
say() { echo "gpu_table.sh: $*"; }

if [ -f "$BUILD/CMakeCache.txt" ] && grep -q '^VAEC_CUDA:BOOL=ON' "$BUILD/CMakeCache.txt"; then
  say "reusing $BUILD (made by bench/gpu.sh)"
else
  say "no CUDA build in $BUILD: configuring it (bench/gpu.sh does the same, then checks the kernels)"
fi
if ! cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DVAEC_CUDA=ON -DVAEC_MPI=ON > "$OUT/table-configure.txt" 2>&1; then
  grep -E 'vaec:|Error' "$OUT/table-configure.txt" | head -20
  say "configure failed (whole output: $OUT/table-configure.txt)"
  exit 1
fi
grep -E '^-- vaec: (CUDA|cuDNN)' "$OUT/table-configure.txt" | sed 's/^-- //'
if ! grep -q 'vaec: CUDA backend ON' "$OUT/table-configure.txt"; then
  say "this build has no CUDA backend (no nvcc): nothing to time on a GPU"
  exit 2
fi
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  say "no GPU is present on this machine (nvidia-smi finds none): no GPU table here; run it on the GPU machine"
  exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/gpu_table.sh: /'
for lib in $(sed -nE 's/^-- vaec: (cuDNN |NCCL ON \()([^ ,]+).*/\2/p' "$OUT/table-configure.txt"); do
  export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"   # as in gpu.sh
done
export BUILD BENCH_DEVICE=cuda BENCH_OUT="$OUT/results.jsonl" VAEC_PYTHON=${VAEC_PYTHON:-python3}
bash bench/run.sh "$@" 2>&1 | tee "$OUT/table.txt"
