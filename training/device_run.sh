#!/usr/bin/env bash
# The whole recipe on the GPU machine, in one go (see training/README.md):
#   1. check hgrn_bit.py against the golden outputs of the official code,
#   2. train the tokenizer and tokenize the corpus,
#   3. train several configurations side by side on the one GPU (each within BUDGET seconds),
#   4. export the one with the lowest held-out loss and compute reference.json with the exact math.
# Expects training/corpus-cache/{corpus.jsonl.gz, golden/} (prepare_corpus.py; the golden files copied
# from engine/src/test/resources/golden/hgrn-bit-tiny). Results go to $OUT: the model folder as a tarball (the weights
# split into parts below 16 MiB; `cat` them back together) plus the logs.
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/ternstream-out}
WORK=${WORK:-/tmp/ternstream-train}
BUDGET=${BUDGET:-330}
VOCAB=${VOCAB:-8192}
mkdir -p "$OUT" "$WORK/runs"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$WORK/gpu.txt"
python3 -c 'import torch, tokenizers; print("torch", torch.__version__, "tokenizers", tokenizers.__version__)'

python3 check_golden.py corpus-cache/golden > "$WORK/golden_check.json"
echo "golden check exit status $?"; grep -E '"max"|pass|equal' "$WORK/golden_check.json" | tr -d ' \n'; echo

python3 tokenize_corpus.py --corpus corpus-cache/corpus.jsonl.gz --vocab "$VOCAB" --out "$WORK/data" \
  | tee "$WORK/tokenize.json" || exit 1

# name, then train.py options; all share hidden 384, 6 layers (about 17M parameters, 34 MB in bf16)
RUNS=${RUNS:-"d --lr 2e-3 --dropout 0.2 --epochs 20
e --lr 3e-3 --dropout 0.15 --epochs 16 --weight-decay 0.1
f --lr 2.5e-3 --dropout 0.25 --epochs 24"}
while read -r name opts; do
  mkdir -p "$WORK/runs/$name"
  python3 train.py --data "$WORK/data" --out "$WORK/runs/$name" --hidden 384 --layers 6 --batch 64 --seq 512 \
    --eval-every 25 --time-budget "$BUDGET" --compile $opts > "$WORK/runs/$name/stdout" 2>&1 &
done <<< "$RUNS"
wait
for r in "$WORK"/runs/*; do echo "== $r"; grep -E 'planned|tok_per_s|compile_failed|best_val|Error' "$r/stdout"; tail -n 2 "$r/stdout"; done

python3 export.py --runs "$WORK"/runs/* --data "$WORK/data" --validation-txt ../models/ternstream-tiny/validation.txt \
  --out "$WORK/ternstream-tiny"
echo "export exit status $?"

split -b 15M -d "$WORK/ternstream-tiny/model.safetensors" "$OUT/model.safetensors.part"
tar czf "$OUT/bundle.tar.gz" -C "$WORK" --exclude=model.safetensors --exclude='*.pt' --exclude='*.u16' \
  ternstream-tiny runs golden_check.json tokenize.json gpu.txt
ls -la "$OUT"
