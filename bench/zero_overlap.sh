#!/usr/bin/env bash
# bench/zero_overlap.sh: a data-parallel step with and without overlapping the gradient reduction with backward
# (docs/distributed.md, "ZeRO"). Runs `mpirun -np $NP vaec train` twice on synthetic clips, dist_overlap = true
# then false, and prints the last logged step_ms and allreduce_ms of each (allreduce_ms: the time a rank waited
# for the reductions after backward, i.e. what backward did not hide).
#   NP=2 STAGE=2 STEPS=6 CONFIG=tests/data/train_tiny.ini SETS="--set train.batch_size=2" bash bench/zero_overlap.sh
set -euo pipefail
NP=${NP:-2} STAGE=${STAGE:-2} STEPS=${STEPS:-6} CONFIG=${CONFIG:-tests/data/train_tiny.ini} SETS=${SETS:-}
BIN=${BIN:-build/bin/vaec} OUT=${OUT:-$(mktemp -d /tmp/vaec_zero_bench.XXXXXX)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
[ -f "$OUT/d.h5" ] || "$BIN" data make --synthetic 16 --out "$OUT/d.h5" --size 64 --num-frames 9 >/dev/null
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $NP ranks x $OMP_NUM_THREADS threads; zero_stage $STAGE"
for overlap in true false; do
  rm -rf "$OUT/run-$overlap"
  mpirun --oversubscribe --bind-to none -np "$NP" "$BIN" train "$CONFIG" --set data.path="$OUT/d.h5" --steps "$STEPS" \
    --set train.log_every=$((STEPS / 2)) --set train.ckpt_every=100000 --set train.zero_stage="$STAGE" \
    --set train.dist_overlap=$overlap $SETS --out "$OUT/run-$overlap" > "$OUT/log-$overlap.txt" 2>&1
  line=$(grep "step $STEPS/$STEPS" "$OUT/log-$overlap.txt")
  echo "dist_overlap=$overlap: $(grep -o 'step [0-9.]* ms, allreduce [0-9.]* ms ([0-9.]*%)' <<<"$line") | $(grep -m1 '^overlap:' "$OUT/log-$overlap.txt")"
done
echo "logs: $OUT"
