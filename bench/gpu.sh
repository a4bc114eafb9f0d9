#!/usr/bin/env bash
# bench/gpu.sh: the `make bench` table on a GPU, plus the full-size stage-1 step (frozen SDXL VAE + the
# 309.7M temporal VAE, 1x3x17x256x256). Run it on the machine with the GPU, from the repository root:
#   here:    ../shared/device/pack-debs.sh .devdeps libopenblas0-openmp libopenblas-openmp-dev
#            (the device image has torch but not diffusers: download its wheel into .whl as
#            /work/.library/device/README.md describes, and install it first in the device command)
#   device:  run(command="python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl &&
#                export PYTHONPATH=/tmp/site && source .devdeps/env.sh && bash bench/gpu.sh", carry=[".devdeps", ".whl"])
# It builds build-gpu (Release, CUDA on), checks the CUDA twin tests first (a bench of wrong kernels is
# worthless), then times every row with vaec and PyTorch on cuda (torch_bench.py --device cuda: the same
# work, TF32 off on both sides) and prints the table. vaec's mixed precision (bf16) is not wired into the
# model yet (issue 7): its rows run fp32, so compare them with PyTorch fp32. Results: build-gpu/bench/.
# env: BENCH_REPS (3), VAEC_PYTHON (python3 with torch and diffusers), BENCH_SKIP_TESTS=1 to skip the check.
set -uo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DVAEC_CUDA=ON >/dev/null || { echo "gpu.sh: cmake failed" >&2; exit 1; }
cmake --build build-gpu -j "$(nproc)" || { echo "gpu.sh: the build failed" >&2; exit 1; }
if [ "${BENCH_SKIP_TESTS:-0}" != 1 ]; then
  ./build-gpu/bin/vaec_tests cuda_ | tail -25
  ./build-gpu/bin/vaec_tests cuda_ >/dev/null 2>&1 || echo "gpu.sh: WARNING: CUDA twin tests fail: the timings below are of wrong kernels" >&2
fi
export BUILD=build-gpu BENCH_DEVICE=cuda BENCH_OUT=build-gpu/bench/results.jsonl VAEC_PYTHON=${VAEC_PYTHON:-python3}
bash bench/run.sh "$@"
