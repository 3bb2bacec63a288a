#!/usr/bin/env bash
# Train, publish and re-evaluate the four regressors on the 8D paper-format sample.
# Usage: scripts/train_paper8d.sh [REGRESSOR...]   (default: skdnn dnn xgboost catboost)
# Registry: $ZOO_HOME (default /tmp/zoo-bench-home); logs and histograms: $OUT (default /tmp/paper8d).
set -euo pipefail
cd "$(dirname "$0")/.."
export ZOO_HOME="${ZOO_HOME:-/tmp/zoo-bench-home}"
OUT="${OUT:-/tmp/paper8d}"
ZOO="${ZOO:-zoo}"
TEST=../shared/data/paper_format_sample/8D/test
LABEL=qqbar-zz-4l/8d/f11/sum
mkdir -p "$OUT"
for reg in "${@:-skdnn dnn xgboost catboost}"; do
  for r in $reg; do
    "$ZOO" train --config "configs/paper8d_$r.toml" --publish 2>&1 | tee "$OUT/train_$r.log"
    version=$(sed -n "s|^published $LABEL@\([0-9]*\)$|\1|p" "$OUT/train_$r.log" | tail -1)
    "$ZOO" show "$LABEL@$version" --json > "$OUT/card_$r.json"
    "$ZOO" evaluate "$LABEL@$version" --data "$TEST" --source paper-csv --json \
      --histogram "$OUT/delta_$r.png" > "$OUT/eval_$r.txt"
  done
done
