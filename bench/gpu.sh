#!/usr/bin/env bash
# bench/gpu.sh: the same table as bench/run.sh on a GPU machine (the device tool): the PyTorch twins run
# on cuda, vaec with --device cuda. Until the CUDA backend lands (issue 7) every vaec row reports
# "fails" and only the PyTorch column is filled. The full-size stage-1 step of issue 9 (17x256x256, bf16)
# needs that backend too; its row is added with it.
# usage: bench/gpu.sh [ROW...]   env as bench/run.sh (BENCH_THREADS, BENCH_REPS, VAEC_PYTHON, ...)
set -uo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader >&2
echo "bench/gpu.sh: vaec rows fail until the CUDA backend lands (issue 7); the torch column is the target" >&2
BENCH_DEVICE=cuda BENCH_OUT=${BENCH_OUT:-build/bench/results-gpu.jsonl} exec bash bench/run.sh "$@"
