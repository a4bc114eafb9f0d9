#!/usr/bin/env bash
# demo.sh: what `make demo` runs after building. Makes the synthetic dataset (moving coloured shapes, HDF5),
# trains configs/demo.ini on the CPU, and checks that it learned: the held-out PSNR must rise by at least
# 5 dB over the untrained model, and writes runs/demo/reconstruction.mp4: a held-out clip beside its
# reconstruction (`vaec reconstruct --side-by-side`). An earlier demo run in runs/demo is moved aside, never overwritten.
set -euo pipefail
cd "$(dirname "$0")/.."
VAEC=${VAEC:-${BUILD:-build}/bin/vaec}
MIN_GAIN_DB=${MIN_GAIN_DB:-5}
mkdir -p data runs
[ -f data/demo.h5 ] || "$VAEC" data make --synthetic 96 --size 32 --num-frames 9 --seed 0 --out data/demo.h5
[ -f data/demo-eval.h5 ] || "$VAEC" data make --synthetic 8 --size 32 --num-frames 9 --seed 1 --out data/demo-eval.h5
if [ -e runs/demo ]; then
    old=runs/demo-$(date +%Y%m%d-%H%M%S)
    mv runs/demo "$old"
    echo "demo: the previous demo run is kept in $old"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$VAEC" train configs/demo.ini "$@" | tee "$log"
ckpt=$(sed -n 's/^checkpoint: //p' "$log" | tail -1)
preview=$(sed -n 's/^preview: \([^ ]*\).*/\1/p' "$log" | tail -1)
before=$(sed -n 's/^held-out before training: PSNR \([0-9.]*\) dB.*/\1/p' "$log")
after=$(sed -n 's/^held-out after training: PSNR \([0-9.]*\) dB.*/\1/p' "$log")
# what it learned, to watch: held-out clip 0, input left, reconstruction right
"$VAEC" reconstruct --ckpt "$ckpt" --input data/demo-eval.h5 --clip 0 --side-by-side --output runs/demo/reconstruction.mp4
echo
echo "demo done"
echo "  checkpoint: $ckpt  (vaec ckpt info $ckpt/model.safetensors)"
echo "  preview:    $preview  (held-out clip: input above, reconstruction below)"
echo "  video:      runs/demo/reconstruction.mp4  (held-out clip: input left, reconstruction right)"
echo "  held-out PSNR: $before dB untrained -> $after dB trained"
awk -v a="$after" -v b="$before" -v m="$MIN_GAIN_DB" 'BEGIN { g = a - b; printf "  gain: %+.2f dB (the demo asks for at least %s dB)\n", g, m; exit !(g >= m) }' || {
    echo "demo: FAILED: the model did not learn enough; see runs/demo/metrics.jsonl" >&2
    exit 1
}
