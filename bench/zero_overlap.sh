#!/usr/bin/env bash
# bench/zero_overlap.sh: a data-parallel step with and without overlapping the gradient reduction with backward
# (docs/distributed.md, "ZeRO"). Runs `mpirun -np $NP vaec train` three times on synthetic clips: dist_overlap =
# false, true, and true with MPI's progress thread (VAEC_MPI_PROGRESS_THREAD=1), and prints the last logged
# step_ms and allreduce_ms of each (allreduce_ms: the time a rank was blocked in collectives during the step,
# i.e. the communication that backward did not hide).
#   NP=2 STAGE=2 STEPS=6 CONFIG=tests/data/train_tiny.ini SETS="--set train.batch_size=2" bash bench/zero_overlap.sh
set -euo pipefail
NP=${NP:-2} STAGE=${STAGE:-2} STEPS=${STEPS:-6} CONFIG=${CONFIG:-tests/data/train_tiny.ini} SETS=${SETS:-}
BIN=${BIN:-build/bin/vaec} OUT=${OUT:-$(mktemp -d /tmp/vaec_zero_bench.XXXXXX)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
[ -f "$OUT/d.h5" ] || "$BIN" data make --synthetic 16 --out "$OUT/d.h5" --size 32 --num-frames 9 >/dev/null
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(grep -c ^processor /proc/cpuinfo) cores; $NP ranks x $OMP_NUM_THREADS threads; zero_stage $STAGE"
for mode in false true progress; do
  overlap=$([ $mode = false ] && echo false || echo true)
  export VAEC_MPI_PROGRESS_THREAD=$([ $mode = progress ] && echo 1 || echo 0)
  rm -rf "$OUT/run-$mode"
  mpirun -x VAEC_MPI_PROGRESS_THREAD --oversubscribe --bind-to none -np "$NP" "$BIN" train "$CONFIG" --set data.path="$OUT/d.h5" --steps "$STEPS" \
    --set train.log_every=$((STEPS / 2)) --set train.ckpt_every=100000 --set train.zero_stage="$STAGE" \
    --set train.dist_overlap=$overlap $SETS --out "$OUT/run-$mode" > "$OUT/log-$mode.txt" 2>&1
  line=$(grep "step $STEPS/$STEPS" "$OUT/log-$mode.txt")
  echo "dist_overlap=$overlap progress_thread=$VAEC_MPI_PROGRESS_THREAD: $(grep -o 'step [0-9.]* ms, allreduce [0-9.]* ms ([0-9.]*%)' <<<"$line") | $(grep -m1 '^overlap:' "$OUT/log-$mode.txt")"
done
echo "logs: $OUT"
