#!/usr/bin/env bash
# Trains the default ranking model end to end: simulator -> dataset -> PyTorch -> ONNX + manifest in
# models/ranking/<version>/, then points models/ranking/current at it. Extra arguments go to
# train_ranker.py (e.g. npm run train -- --epochs 4). Environment: PYTHON, TRAINING_DATA_DIR,
# TRAINING_ROWS, TRAINING_VALIDATION_ROWS, TRAINING_SEED, MODELS_DIR.
# TRAINING_COLD_START=1 trains the deliberately weak cold-start model instead (2,000 rows, seed 11,
# 12 epochs of batch 128) and points models/ranking/cold-start at it, leaving current alone.
# Then the two-tower retrieval model (train_two_tower.py -> models/retrieval/<version>/), from the
# funnel's logs only (never the simulator): from TRAINING_RETRIEVAL_DATA (an export-retrieval
# directory) if set, else exported from the database (DATABASE_URL, or SQLITE_PATH /
# var/adfunnel.sqlite when that file exists); skipped, saying so, when there is no log to train on.
# TRAINING_RETRIEVAL=0 skips it; TRAINING_RETRIEVAL_ARGS adds arguments to train_two_tower.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-/usr/bin/python3}"
DATA_DIR="${TRAINING_DATA_DIR:-tools/training/.data}"
ROWS="${TRAINING_ROWS:-300000}"
VALIDATION_ROWS="${TRAINING_VALIDATION_ROWS:-100000}"
SEED="${TRAINING_SEED:-7}"
MODEL_ROOT="${MODELS_DIR:-models}/ranking"
RETRIEVAL_ROOT="${MODELS_DIR:-models}/retrieval"
RETRIEVAL="${TRAINING_RETRIEVAL:-1}"
POINTER=current
TRAINER_ARGS=()
if [[ "${TRAINING_COLD_START:-0}" == "1" ]]; then
  DATA_DIR="${TRAINING_DATA_DIR:-tools/training/.data/cold-start}"
  ROWS="${TRAINING_ROWS:-2000}"
  VALIDATION_ROWS="${TRAINING_VALIDATION_ROWS:-50000}"
  SEED="${TRAINING_SEED:-11}"
  POINTER=cold-start
  RETRIEVAL=0
  TRAINER_ARGS=(--seed "$SEED" --epochs 12 --batch-size 128 --pointer cold-start
    --description "cold-start: ${ROWS} simulator rows, 12 epochs; the closed loop (tools/loop) starts from it")
fi

if ! "$PYTHON" -c 'import numpy, torch' 2>/dev/null; then
  echo "train.sh: $PYTHON cannot import numpy and torch; install them (Debian: apt-get install python3-torch)" >&2
  exit 1
fi

echo "== building the data generator (tsc -b, incremental)"
npx tsc -b tools/training/tsconfig.json

echo "== generating $ROWS training + $VALIDATION_ROWS validation rows (seed $SEED) into $DATA_DIR"
node tools/training/dist/generate-clicks.js --out "$DATA_DIR" --rows "$ROWS" --validation-rows "$VALIDATION_ROWS" --seed "$SEED"

echo "== training"
"$PYTHON" -m unittest -q tools/training/test_train_ranker.py
"$PYTHON" tools/training/train_ranker.py --data "$DATA_DIR" --out-root "$MODEL_ROOT" \
  "${TRAINER_ARGS[@]}" "$@"

echo "== checking ONNX against torch"
node tools/training/dist/check-onnx-parity.js "$MODEL_ROOT/$(cat "$MODEL_ROOT/$POINTER")"

if [[ "$RETRIEVAL" != "1" ]]; then
  exit 0
fi
echo "== two-tower retrieval model (from the funnel's logs)"
RETRIEVAL_DATA="${TRAINING_RETRIEVAL_DATA:-}"
if [[ -z "$RETRIEVAL_DATA" ]]; then
  SQLITE="${SQLITE_PATH:-var/adfunnel.sqlite}"
  if [[ -n "${DATABASE_URL:-}" || -f "$SQLITE" ]]; then
    RETRIEVAL_DATA="tools/training/.data/retrieval"
    rm -rf "$RETRIEVAL_DATA"
    if ! SQLITE_PATH="$SQLITE" node tools/training/dist/export-retrieval.js --out "$RETRIEVAL_DATA"; then
      echo "train.sh: no served-ad log to train the two-tower model on; models/retrieval left as it is" >&2
      echo "  (npm run loop trains it on the logs of its own traffic)" >&2
      exit 0
    fi
  else
    echo "train.sh: no funnel database (DATABASE_URL, or $SQLITE) and no TRAINING_RETRIEVAL_DATA: the two-tower" >&2
    echo "  model trains on served-ad logs only; skipped (npm run loop trains it on the logs of its own traffic)" >&2
    exit 0
  fi
fi
"$PYTHON" -m unittest -q tools/training/test_two_tower_inputs.py
status=0
# shellcheck disable=SC2086
"$PYTHON" tools/training/train_two_tower.py --data "$RETRIEVAL_DATA" --out-root "$RETRIEVAL_ROOT" \
  ${TRAINING_RETRIEVAL_ARGS:-} || status=$?
if [[ "$status" == "3" ]]; then
  echo "train.sh: too few clicks in the log for the two-tower model; models/retrieval left as it is" >&2
  exit 0
elif [[ "$status" != "0" ]]; then
  exit "$status"
fi
node tools/training/dist/check-two-tower-parity.js "$RETRIEVAL_ROOT/$(cat "$RETRIEVAL_ROOT/current")"
