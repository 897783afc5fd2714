#!/usr/bin/env bash
# Own-LLM training throughput: `ml-engine lm pretrain` against the same model in PyTorch Python
# (bench/lm_train_peer.py, Debian's python3-torch), same shapes, batches, optimizer and threads,
# measured in this run. The shape is the 4.2M-parameter model of the issue: dim 256, 4 layers,
# 4 heads, context 256, batch 16, vocabulary 4096, AdamW, 2 threads. Prints tokens/s of both,
# the ratio, and the validation loss of both after the same steps.
set -euo pipefail
BUILD_DIR=${1:-build}
STEPS=${STEPS:-30}
BIN=$(cd "$BUILD_DIR/bin" && pwd)/ml-engine
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mle-lm-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

inputs=(/usr/share/games/fortunes /usr/include/*.h)
"$BIN" lm tokenizer --input "${inputs[@]}" --vocab-size 4096 -o "$work/tok" >/dev/null
"$BIN" lm data --input "${inputs[@]}" --tokenizer "$work/tok" -o "$work/data" >/dev/null
size='{"dim":256,"n_layers":4,"n_heads":4,"context":256}'
common=(--data "$work/data" --size "$size" --steps "$STEPS" --batch-size 16 --lr 1e-3
        --log-every 1 --eval-every "$STEPS" --eval-batches 4 --threads 2 --quiet
        --runs-dir "$work/runs")

# Tokens/s of steps 4..N from the metrics log (the first steps warm caches and allocators).
rate() {
  python3 - "$1" <<'PY'
import json, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if '"step"' in l]
steps = [s for s in steps if s.get("type") == "step" and s["step"] > 3]
tok_s = len(steps) / sum(1.0 / s["tokens_per_s"] for s in steps)
val = [json.loads(l) for l in open(sys.argv[1]) if '"eval"' in l][-1]["val_loss"]
print(f"{tok_s:.1f} {val:.5f}")
PY
}

# Samples and progress go to a log, shown only when a run fails.
pretrain() { "$BIN" lm pretrain "${common[@]}" "$@" >/dev/null 2>"$work/pretrain.log" || {
  cat "$work/pretrain.log" >&2; return 1; }; }
pretrain --precision fp32 -o "$work/run-fp32"
read -r ours_fp32 val_fp32 < <(rate "$work/run-fp32/metrics.jsonl")
pretrain --precision auto -o "$work/run-auto"
read -r ours_auto val_auto < <(rate "$work/run-auto/metrics.jsonl")
prec_auto=$(python3 -c "import json;print(json.load(open('$work/run-auto/config.json'))['precision'])")
params=$(python3 -c "import json;print(json.load(open('$work/run-fp32/config.json'))['n_parameters'])")

peer=$(/usr/bin/python3 "$HERE/lm_train_peer.py" --data "$work/data" \
  --config "$work/run-fp32/config.json" --steps "$STEPS" --timed-from 3 --batch-size 16 \
  --lr 1e-3 --threads 2)
peer_tok=$(python3 -c "import json,sys;print(round(json.loads(sys.argv[1])['tokens_per_s'],1))" "$peer")
peer_val=$(python3 -c "import json,sys;print(round(json.loads(sys.argv[1])['val_loss'],5))" "$peer")

python3 - "$params" "$ours_fp32" "$val_fp32" "$ours_auto" "$val_auto" "$prec_auto" "$peer_tok" "$peer_val" "$STEPS" <<'PY'
import sys
params, of, vf, oa, va, pa, pt, pv, steps = sys.argv[1:]
of, vf, oa, va, pt, pv = map(float, (of, vf, oa, va, pt, pv))
print(f"model: {int(params)/1e6:.2f}M parameters, {steps} steps of 16 x 256 tokens, 2 threads")
print(f"| run | tokens/s | vs PyTorch | val loss | val loss vs PyTorch |")
print(f"|---|---:|---:|---:|---:|")
print(f"| PyTorch Python (fp32) | {pt:.0f} | 1.00x | {pv:.4f} | |")
print(f"| ml-engine fp32 | {of:.0f} | {of/pt:.2f}x | {vf:.4f} | {100*(vf/pv-1):+.2f}% |")
print(f"| ml-engine --precision auto ({pa}) | {oa:.0f} | {oa/pt:.2f}x | {va:.4f} | {100*(va/pv-1):+.2f}% |")
PY
