#!/bin/bash
# Table 1, 8D f11: the sk-DNN trained on a GPU machine (16 CPU cores generate the data,
# one GPU trains). Run from the repository root with the project installed; writes the
# work folder to ${WORK:-runs/table1-gpu}. Used for BENCHMARKS.md section 3 (8D row).
#   N_TRAIN=4194304 EPOCHS=60 [TERMS=f01] [WIDTH=.. DEPTH=.. BS=..] bash scripts/gpu_table1_8d.sh
set -eo pipefail
WORK=${WORK:-runs/table1-gpu}
N_TRAIN=${N_TRAIN:-4194304}
EPOCHS=${EPOCHS:-60}
WORKERS=${WORKERS:-14}
mkdir -p "$WORK"
t0=$(date +%s)
zoo generate qqbar-zz-4l/8d --n "$N_TRAIN" --seed 1 --out "$WORK/train_8d_$N_TRAIN.zarr" \
    --dask local --workers "$WORKERS"
zoo generate qqbar-zz-4l/8d --n 1000000 --seed 10008 --out "$WORK/test_8d_1000000.zarr" \
    --dask local --workers "$WORKERS"
echo "data ready after $(( $(date +%s) - t0 )) s"
python3 scripts/bench_table1.py --dims 8 --terms "${TERMS:-f11}" --regressors skdnn --n-train "$N_TRAIN" \
    --work "$WORK" --param skdnn.epochs="$EPOCHS" --param skdnn.batch_size=${BS:-4096} --param skdnn.width=${WIDTH:-64} --param skdnn.depth=${DEPTH:-4} \
    --param skdnn.learning_rate=0.003 --param skdnn.device='"cuda"' --param skdnn.n_threads=4
echo "finished after $(( $(date +%s) - t0 )) s"
