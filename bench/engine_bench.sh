#!/usr/bin/env bash
# Engine benchmark against llama.cpp (llama-cpp-python, the .venv that
# scripts/setup-bench-venv.sh builds): TinyLlama-1.1B-shaped models with random weights
# (Q4_0, Q8_0, Q4_K_M), synthesized once into BUILD_DIR/bench-models, then pp128/tg64 of both
# engines with 2 threads (taking turns over MLE_BENCH_ROUNDS rounds of MLE_BENCH_REPS
# repetitions), the ratios, the issue's reference figures and the bandwidth
# fraction; then the two engines' logits on the same prompts. Prints everything; fails only
# when ml-engine itself fails.
set -uo pipefail
BUILD_DIR=${1:-build}
BIN=$(cd "$BUILD_DIR/bin" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODELS="$BUILD_DIR/bench-models"
OUT=$(mktemp -d /tmp/mle-engine-bench-XXXXXX)
PY="$ROOT/.venv/bin/python"
THREADS=${MLE_BENCH_THREADS:-2}
REPS=${MLE_BENCH_REPS:-3}
ROUNDS=${MLE_BENCH_ROUNDS:-2}
TYPES=${MLE_BENCH_TYPES:-"Q4_0 Q8_0 Q4_K_M"}
VOCAB="$ROOT/../shared/testdata/vocab/ggml-vocab-llama-spm.gguf"
status=0
mkdir -p "$MODELS"

have_peer=1
"$PY" -c 'import llama_cpp' 2>/dev/null || { have_peer=0; echo "warning: llama.cpp peer unavailable (run scripts/setup-bench-venv.sh)"; }

bench_pairs=() logit_pairs=()
for type in $TYPES; do
  model="$MODELS/tinyllama-1.1b-$type.gguf"
  if [[ ! -f "$model" ]]; then
    echo "synthesizing $model ..."
    "$BIN/ml-engine" gguf synth --shape tinyllama-1.1b --type "$type" --vocab "$VOCAB" \
      -o "$model" --threads "$THREADS" --quiet || { status=1; continue; }
  fi
  # The engines take turns, ROUNDS times, so that a slow stretch of a shared machine (its
  # memory bandwidth was seen to swing between 31 and 58 GB/s) lands on both.
  ours_files="" peer_files=""
  for round in $(seq 1 "$ROUNDS"); do
    echo "== $type: ml-engine bench model (round $round of $ROUNDS) =="
    "$BIN/ml-engine" bench model -m "$model" -p 128 -n 64 -r "$REPS" -t "$THREADS" -o json \
      > "$OUT/ours-$type-$round.json" || status=1
    ours_files+="${ours_files:+:}$OUT/ours-$type-$round.json"
    if (( have_peer )); then
      echo "== $type: llama.cpp (round $round of $ROUNDS) =="
      "$PY" "$ROOT/bench/engine_peer.py" bench -m "$model" -p 128 -n 64 -r "$REPS" -t "$THREADS" \
        > "$OUT/peer-$type-$round.json" 2>>"$OUT/peer-$type.log" \
        || echo "warning: peer bench failed ($OUT/peer-$type.log)"
      peer_files+="${peer_files:+:}$OUT/peer-$type-$round.json"
    fi
  done
  bench_pairs+=("$type=$ours_files,${peer_files:-$OUT/peer-$type-1.json}")

  prompts=(-p "Once upon a time, there was a little robot" -p "The capital of France is")
  "$BIN/ml-engine" logits -m "$model" "${prompts[@]}" --top 40 --json --threads "$THREADS" \
    > "$OUT/ours-logits-$type.json" || status=1
  if (( have_peer )); then
    "$PY" "$ROOT/bench/engine_peer.py" logits -m "$model" "${prompts[@]}" --top 10 -t "$THREADS" \
      > "$OUT/peer-logits-$type.json" 2>>"$OUT/peer-$type.log" || echo "warning: peer logits failed"
  fi
  logit_pairs+=("$type=$OUT/ours-logits-$type.json,$OUT/peer-logits-$type.json")
done

echo
echo "== TinyLlama-1.1B (random weights): ml-engine vs llama.cpp, $THREADS threads =="
python3 "$ROOT/bench/engine_compare.py" bench "${bench_pairs[@]}"
echo
echo "== logits agreement (peer top-10 vs ml-engine top-40, per prompt position) =="
python3 "$ROOT/bench/engine_compare.py" logits "${logit_pairs[@]}"
echo "(raw JSON in $OUT)"
exit $status
