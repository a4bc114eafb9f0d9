#!/usr/bin/env bash
# bench/run.sh (`make bench`): every vaec_bench row beside its PyTorch twin on the same thread count,
# one fresh process per row and side (so peak RSS is the row's own), then one table (bench/table.py).
# usage: bench/run.sh [ROW...]           (default: every row but the slow temporal_full_17x32x32 and, on the
#                                          CPU, the full-size stage1_step_17x256: name them to run them)
# env:   BENCH_THREADS (default nproc), BENCH_REPS (3), BENCH_WARMUP (1), BENCH_DEVICE (cpu | cuda),
#        VAEC_PYTHON (default /root/vaec-venv/bin/python: a Python with torch and diffusers),
#        BENCH_OUT (the JSON lines; default build/bench/results.jsonl)
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

skip='^temporal_full_17x32x32$'
[ "$device" = cuda ] || skip='^(temporal_full_17x32x32|stage1_step_17x256)$'
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
"$fmt_py" bench/table.py "$out"
