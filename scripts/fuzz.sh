#!/usr/bin/env bash
# scripts/fuzz.sh: runs every libFuzzer target of tests/fuzz/ for FUZZ_S seconds each (`make fuzz`).
#   FUZZ_S=60 BUILD_FUZZ=build-fuzz bash scripts/fuzz.sh [TARGET...]
# Each target starts from its committed seeds and regressions (read-only) plus a scratch corpus under
# $BUILD_FUZZ/corpus/ that keeps growing between runs. A crash, a hang (> 5 s on one input), a leak, an
# out-of-memory or a sanitizer report fails the run; the input that caused it is copied to
# tests/fuzz/regressions/<target>/, which `make test` replays from then on. The last lines are a table:
# target, executions, edges covered, result (also in $BUILD_FUZZ/fuzz-summary.txt).
#   FUZZ_RUNS=N (CI): N executions a target from a fixed seed (FUZZ_SEED, default 1) instead of FUZZ_S
#   seconds, so a run explores the same inputs on every machine with the same build: CI passes or fails on
#   the code, not on the luck of the draw. Fresh inputs are make fuzz's job.
#   bash scripts/fuzz.sh --deps    installs what the fuzz build needs (clang, libFuzzer, clang's OpenMP), then exits
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--deps" ]; then   # idempotent, like scripts/install-deps.sh: no apt command when all are there
  missing=()
  for p in clang libclang-rt-14-dev libomp-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "fuzz: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit $?
fi
FUZZ_S=${FUZZ_S:-60}
B=${BUILD_FUZZ:-build-fuzz}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors config h5video image checkpoint)
# the targets' temporary files (each input goes through a file): inside the build folder, where a crashed
# target's leftovers do no harm
case "$B" in /*) TMPDIR="$B/tmp" ;; *) TMPDIR="$PWD/$B/tmp" ;; esac
export TMPDIR
mkdir -p "$TMPDIR"
# leaks inside third-party libraries vaec cannot fix (each explained in the file); full stacks through them
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# a malloc too large to serve returns NULL, as glibc's does (HDF5 asks for sizes read from corrupt headers and checks)
export ASAN_OPTIONS="fast_unwind_on_malloc=0:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
summary="$B/fuzz-summary.txt"
: > "$summary"
failed=0
for t in "${targets[@]}"; do
  bin="$B/bin/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: $bin missing: build it with 'make fuzz'" >&2; exit 2; }
  work="$B/corpus/$t" art="$B/artifacts/$t" reg="tests/fuzz/regressions/$t"
  mkdir -p "$work" "$art" "$reg"
  rm -f "$art"/*
  dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  log="$B/fuzz-$t.log"
  if [ -n "${FUZZ_RUNS:-}" ]; then
    budget=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
    echo "== fuzz_$t: $FUZZ_RUNS runs from seed ${FUZZ_SEED:-1} =="
  else
    budget=(-max_total_time="$FUZZ_S")
    echo "== fuzz_$t: ${FUZZ_S}s =="
  fi
  # -max_len: the largest seed (an HDF5 dataset, 18 KB) with room to grow. -malloc_limit_mb: one malloc
  # past 4 GiB fails the run (vaec allocating from a size it did not check); HDF5's own H5Fopen mallocs up
  # to a 32-bit size read from a corrupt object header, untouched and freed when the read fails (found at
  # 2 GiB, tests/fuzz/regressions/h5video/hdf5-2gb-object-header-in-h5fopen): the RSS limit still counts.
  "$bin" "${budget[@]}" -timeout=5 -rss_limit_mb=2048 -malloc_limit_mb=4096 -detect_leaks=1 -max_len=32768 \
         -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" \
         "$work" "tests/fuzz/corpus/$t" "$reg" > "$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  edges=$(grep -oE '^#[0-9]+.*cov: [0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+' | grep -o '[0-9]*')
  result=ok
  found=$(ls "$art" 2>/dev/null)
  if [ $rc -ne 0 ] || [ -n "$found" ]; then
    failed=1
    result="FAILED (exit $rc)"
    for f in $found; do cp "$art/$f" "$reg/$f"; result="$result, kept $reg/$f"; done
    grep -E 'ERROR|SUMMARY|runtime error|fuzz target exited|vaec: error|fuzz:' "$log" | head -8
    echo "   full log: $log"
  fi
  printf '%-12s execs %-10s edges %-6s %s\n' "$t" "${execs:-?}" "${edges:-?}" "$result" | tee -a "$summary"
done
echo
cat "$summary"
exit $failed
