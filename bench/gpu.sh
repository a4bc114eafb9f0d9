#!/usr/bin/env bash
# bench/gpu.sh: the one prepared command for a GPU machine: configure with CUDA, cuDNN, NCCL and MPI (and
# print what was found), build, then run every CUDA test (`cuda_` and `nccl` in its name) in its own
# process, once, with CUDA_LAUNCH_BLOCKING=1 (a kernel fault is reported at its launch, not at a later
# check) and a per-test timeout, so one fatal error or hang costs one test, not the run. Under 8 minutes
# on a 16-core H200 machine (a fresh build, then about 35 tests); a total budget stops it in time anyway.
#
# Everything goes under $OUT (default build-gpu/out), at most 8 files, as the device tool brings back:
#   env.txt        GPU, driver, nvcc, and the cuDNN / NCCL files on the machine
#   configure.txt  the whole configure output (its "vaec:" lines are printed too)
#   build.txt      the whole build output
#   tests.log      every test's own output, one after the other, each under a "==== NAME" line
#   summary.txt    one line a test: PASS, FAIL, SKIP, TIMEOUT (or NOT-RUN when the budget ran out), seconds
# Exit status: 0 when no test failed or timed out (skips included: a machine without a GPU skips them all).
#
# The PyTorch side-by-side table is a separate command, bench/gpu_table.sh: it reuses the build folder
# this script made (build-gpu), so run it next on the same machine while it is still warm.
#
# Preparing it (on the developer machine, from the root of the checkout the device tool sends):
#   bash ../shared/device/pack-debs.sh .devdeps
#     (that is /work/shared/device/pack-debs.sh for a checkout at /work/<name>; it writes .devdeps/root.tar.xz
#     and .devdeps/env.sh, about 20 MB, and adds /.devdeps/ to .git/info/exclude. It needs .git to be a
#     folder, so run it in the main checkout, not in a `git worktree`, where .git is a file.)
# Running it (the device tool's run):
#   run(command="source .devdeps/env.sh && bash bench/gpu.sh", carry=[".devdeps"], timeout_s=600)
# env.sh unpacks the Debian libraries (OpenBLAS, HDF5, libpng, libjpeg, Open MPI) into /tmp/vaec-devdeps and
# links the cuDNN and NCCL of the machine's pip wheels under unversioned names; the configure step finds the
# wheels by their versioned names as well (cmake/find_cuda_libs.cmake), so it works without env.sh's links.
#
# env: OUT, BUILD (build-gpu), JOBS (nproc), GPU_TEST_TIMEOUT (120 s a test), GPU_TOTAL_S (420: no test
#      starts after this many seconds of tests), GPU_TESTS (an extended regex of names; default cuda_|nccl)
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
OUT=${OUT:-build-gpu/out}
BUILD=${BUILD:-build-gpu}
JOBS=${JOBS:-$(nproc)}
per_test=${GPU_TEST_TIMEOUT:-120}
total=${GPU_TOTAL_S:-420}
pattern=${GPU_TESTS:-cuda_|nccl}
mkdir -p "$OUT"
say() { echo "gpu.sh: $*"; }

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader 2>&1
  else
    echo "nvidia-smi: not found (no NVIDIA driver on this machine)"
  fi
  nvcc_bin=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  if [ -x "$nvcc_bin" ]; then "$nvcc_bin" --version | tail -2; else echo "nvcc: not found"; fi
  echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-<unset>}"
  echo "cuDNN / NCCL files:"
  ls /usr/local/cuda/include/cudnn.h /usr/local/cuda/include/nccl.h /usr/local/cuda/lib*/libcudnn.so* \
     /usr/local/cuda/lib*/libnccl.so* /usr/lib/x86_64-linux-gnu/libcudnn.so* /usr/lib/x86_64-linux-gnu/libnccl.so* 2>/dev/null
  python3 -c 'import nvidia, os; print("\n".join(sorted(os.path.join(r, f) for p in nvidia.__path__ for r, _, fs in os.walk(p) for f in fs if f.startswith(("libcudnn.so", "libnccl.so", "cudnn.h", "nccl.h")))))' 2>/dev/null
} > "$OUT/env.txt" 2>&1
head -3 "$OUT/env.txt" | sed 's/^/gpu.sh: /'

# ---- configure: CUDA, cuDNN, NCCL and MPI; what was found is in the "vaec:" lines ----
if ! cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DVAEC_CUDA=ON -DVAEC_MPI=ON > "$OUT/configure.txt" 2>&1; then
  grep -E 'vaec:|Error|error' "$OUT/configure.txt" | head -20
  say "configure failed (whole output: $OUT/configure.txt)"
  exit 1
fi
grep -E '^-- vaec:|vaec: NCCL OFF' "$OUT/configure.txt" | sed 's/^-- //'
for want in "CUDA backend ON" "cuDNN " "NCCL ON" "MPI ON"; do
  grep -q "vaec: $want" "$OUT/configure.txt" || say "WARNING: the configure step did not report '$want' (see $OUT/configure.txt)"
done

# cuDNN 9 loads its engine libraries (libcudnn_cnn.so.9, ...) by name at run time: put the folders of the
# cuDNN and NCCL that were linked on the loader's path, wherever they came from (a wheel, /usr/local/cuda)
for lib in $(sed -nE 's/^-- vaec: (cuDNN |NCCL ON \()([^ ,]+).*/\2/p' "$OUT/configure.txt"); do
  export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done

# ---- build: the test runner and the vaec binary its CLI tests run ----
b0=$(date +%s)
if ! cmake --build "$BUILD" -j "$JOBS" --target vaec_tests vaec > "$OUT/build.txt" 2>&1; then
  grep -E 'error' "$OUT/build.txt" | head -20
  say "the build failed (whole output: $OUT/build.txt)"
  exit 1
fi
say "built in $(( $(date +%s) - b0 )) s"

# ---- the tests, one process each ----
# a runner that cannot start (a shared library missing at run time) must not read as "0 tests, all well"
if ! names=$("$BUILD/bin/vaec_tests" --list 2>&1); then
  { echo "vaec_tests --list failed:"; echo "$names"; ldd "$BUILD/bin/vaec_tests" | grep 'not found'; } | tee -a "$OUT/build.txt"
  say "the test runner does not start (see above; LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-<unset>})"
  exit 1
fi
mapfile -t tests < <(grep -E "$pattern" <<< "$names")
if [ "${#tests[@]}" = 0 ]; then say "no test name matches '$pattern'"; exit 1; fi
say "${#tests[@]} tests match '$pattern'; ${per_test} s each at most, ${total} s in all"
: > "$OUT/tests.log"
: > "$OUT/summary.txt"
declare -A count=([PASS]=0 [FAIL]=0 [SKIP]=0 [TIMEOUT]=0 [NOT-RUN]=0)
t_start=$(date +%s)
log=$(mktemp)
for t in "${tests[@]}"; do
  left=$(( total - ($(date +%s) - t_start) ))
  if [ "$left" -le 5 ]; then
    status=NOT-RUN; secs=0
  else
    limit=$(( left < per_test ? left : per_test ))
    s0=$(date +%s)
    CUDA_LAUNCH_BLOCKING=1 timeout -k 5 "$limit" "$BUILD/bin/vaec_tests" --exact "$t" > "$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - s0 ))
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=TIMEOUT
    elif [ "$rc" != 0 ]; then status=FAIL
    elif grep -q '^\[ SKIP \]' "$log"; then status=SKIP
    elif grep -q '^\[  OK  \]' "$log"; then status=PASS
    else status=FAIL
    fi
    { echo "==== $t: $status (exit $rc, ${secs} s)"; cat "$log"; echo; } >> "$OUT/tests.log"
  fi
  count[$status]=$(( ${count[$status]} + 1 ))
  why=""
  case $status in
    FAIL) why=$(grep -m1 -E 'FAIL |vaec: error' "$log" | cut -c1-160)
          [ -z "$why" ] && [ "$rc" -gt 128 ] && why="killed by signal $(( rc - 128 )) ($(kill -l $(( rc - 128 )) 2>/dev/null))" ;;
    SKIP) why=$(grep -m1 'SKIPPED:' "$log" | sed 's/^ *SKIPPED: //' | cut -c1-120) ;;
    TIMEOUT) why="killed after ${limit} s" ;;
    NOT-RUN) why="under 5 s of the ${total} s budget left" ;;
  esac
  printf '%-8s %-62s %4s s  %s\n' "$status" "$t" "$secs" "$why" | tee -a "$OUT/summary.txt"
done
rm -f "$log"
line="${count[PASS]} passed, ${count[FAIL]} failed, ${count[SKIP]} skipped, ${count[TIMEOUT]} timed out, ${count[NOT-RUN]} not run"
echo "$line" >> "$OUT/summary.txt"
say "$line; $(( $(date +%s) - start )) s in all; logs in $OUT"
[ $(( ${count[FAIL]} + ${count[TIMEOUT]} )) = 0 ]
