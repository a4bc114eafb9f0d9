#!/usr/bin/env bash
# bench/run.sh (`make bench`): every vaec_bench row beside its PyTorch twin on the same thread count,
# one fresh process per row and side (so peak RSS is the row's own), then one table (bench/table.py).
# usage: bench/run.sh [ROW...]           (default: every row but the slow temporal_full_17x32x32 and, on the
#                                          CPU, the full-size stage1_step_17x256: name them to run them)
# env:   BENCH_THREADS (default nproc), BENCH_REPS (3), BENCH_WARMUP (1), BENCH_DEVICE (cpu | cuda),
#        VAEC_PYTHON (default /root/vaec-venv/bin/python: a Python with torch and diffusers),
#        BENCH_OUT (the JSON lines; default build/bench/results.jsonl),
#        BENCH_SCALING (1: also time every vaec row on 1 thread, for the scaling table; default 1 on the CPU)
set -uo pipefail
cd "$(dirname "$0")/.."
threads=${BENCH_THREADS:-$(nproc)}
reps=${BENCH_REPS:-3}
warmup=${BENCH_WARMUP:-1}
device=${BENCH_DEVICE:-cpu}
py=${VAEC_PYTHON:-/root/vaec-venv/bin/python}
out=${BENCH_OUT:-build/bench/results.jsonl}
build=${BUILD:-build}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 1
cmake --build "$build" -j "$(nproc)" --target vaec_bench >/dev/null || { echo "bench: the build failed" >&2; exit 1; }
bin=$build/bin/vaec_bench

have_torch=1
if ! [ -x "$(command -v "$py")" ]; then
  echo "bench: no Python at '$py': set VAEC_PYTHON to a Python with torch and diffusers; timing vaec alone" >&2
  have_torch=0
elif ! "$py" -c "import torch, diffusers" 2>/dev/null; then
  echo "bench: '$py' cannot import torch and diffusers (pip install torch diffusers, or set VAEC_PYTHON); timing vaec alone" >&2
  have_torch=0
fi
fmt_py=$py
[ "$have_torch" = 1 ] || fmt_py=python3

skip='^temporal_full_17x32x32(_bf16)?$'
scaling=${BENCH_SCALING:-1}
{ [ "$device" = cpu ] && [ "$threads" -gt 1 ]; } || scaling=0
[ "$device" = cuda ] || skip='^(temporal_full_17x32x32|stage1_step_17x256)(_bf16)?$'
if [ $# -gt 0 ]; then rows=("$@"); else mapfile -t rows < <("$bin" --list | grep -Ev "$skip"); fi
mkdir -p "$(dirname "$out")"
: > "$out"
echo "bench: $(nproc) cores, $threads threads, device $device, median of $reps after $warmup warm-up; results in $out" >&2
export OMP_NUM_THREADS=$threads
for row in "${rows[@]}"; do
  echo "{\"row\": \"$row\", \"impl\": \"load\", \"load1\": $(cut -d' ' -f1 /proc/loadavg)}" >> "$out"
  echo "bench: $row (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  if ! line=$("$bin" "$row" --reps "$reps" --warmup "$warmup" --device "$device" 2>/tmp/vaec_bench_err.$$); then
    msg=$(grep -m1 'error' /tmp/vaec_bench_err.$$ | tr -d '"\\' | cut -c1-80)
    echo "bench: vaec $row failed: $msg" >&2
    line="{\"row\": \"$row\", \"impl\": \"vaec\", \"error\": \"fails\"}"
  fi
  echo "$line" >> "$out"
  if [ "$scaling" = 1 ]; then   # the same row on one thread: more threads must never be slower
    if line=$(OMP_NUM_THREADS=1 "$bin" "$row" --reps "$reps" --warmup "$warmup" --device "$device" 2>/dev/null); then
      echo "${line/\"impl\": \"vaec\"/\"impl\": \"vaec1\"}" >> "$out"
    fi
  fi
  if [ "$have_torch" = 1 ]; then
    if ! line=$("$py" -W ignore bench/torch_bench.py --row "$row" --reps "$reps" --warmup "$warmup" --threads "$threads" \
                --device "$device" 2>/tmp/vaec_bench_err.$$); then
      echo "bench: torch $row failed: $(tail -1 /tmp/vaec_bench_err.$$)" >&2
      line="{\"row\": \"$row\", \"impl\": \"torch\", \"error\": \"fails\"}"
    fi
    echo "$line" >> "$out"
  fi
done
rm -f /tmp/vaec_bench_err.$$
echo
echo "vaec vs PyTorch, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $threads threads, $device"
isa=$(grep -m1 -o '"isa": "[^"]*", "conv": "[^"]*"' "$out" | sed 's/"isa": "\([^"]*\)", "conv": "\([^"]*\)"/oneDNN ISA \1, convolutions on \2/')
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, ${isa:-ISA unknown}; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
# the bf16 rows' kernel choice (core/cpu/bf16_cpu.h): n/w per class (conv fwd, bwd data, bwd weights, gemm), each row
# its own process and probe, so the distinct choices are listed
bf16k=$(grep -o '"bf16_kernels": "[nw]*"' "$out" | sed 's/.*: "\(.*\)"/\1/' | sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')
[ -n "$bf16k" ] && echo "bf16 kernels (conv fwd, bwd data, bwd weights, gemm; n oneDNN bf16, w widened to float32): $bf16k${VAEC_BF16_KERNELS:+ (VAEC_BF16_KERNELS=$VAEC_BF16_KERNELS)}"
"$fmt_py" bench/table.py "$out"
