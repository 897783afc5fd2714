#!/usr/bin/env python3
"""Peer for `ml-engine bench model` and `ml-engine logits`: llama.cpp through llama-cpp-python's
low-level API (the venv that scripts/setup-bench-venv.sh builds), on the same GGUF file.

  engine_peer.py bench  -m MODEL [-p 128] [-n 64] [-r 3] [-t 2]      -> JSON on stdout
  engine_peer.py logits -m MODEL -p PROMPT [-p PROMPT...] [--top 10] [--greedy 0] -> JSON

bench follows llama-bench: pp<p> = the prefill of p random tokens (one batch) into an empty
cache, tg<n> = n single-token decodes from an empty cache; one warm-up run each; r repetitions
reported as the mean and sample stddev of the per-run tokens/s. logits prints the layout of
../shared/testdata/llamacpp-ref/*.json (top-k [token, logit], mean and rms per position).
"""
import argparse
import ctypes
import json
import math
import random
import statistics
import sys
import time


def load(path, n_ctx, n_threads, n_batch):
    import llama_cpp as L
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(path.encode(), mp)
    if not model:
        raise SystemExit(f"error: llama.cpp cannot load '{path}'")
    cp = L.llama_context_default_params()
    cp.n_ctx = n_ctx
    cp.n_batch = n_batch
    cp.n_ubatch = n_batch
    cp.n_threads = n_threads
    cp.n_threads_batch = n_threads
    ctx = L.llama_init_from_model(model, cp)
    if not ctx:
        raise SystemExit("error: llama.cpp cannot create a context")
    return L, model, ctx


class Runner:
    def __init__(self, L, ctx, n_max):
        self.L, self.ctx = L, ctx
        self.batch = L.llama_batch_init(n_max, 0, 1)

    def clear(self):
        self.L.llama_memory_clear(self.L.llama_get_memory(self.ctx), True)

    def decode(self, tokens, pos0, all_logits):
        b = self.batch
        for i, t in enumerate(tokens):
            b.token[i] = t
            b.pos[i] = pos0 + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = 1 if (all_logits or i + 1 == len(tokens)) else 0
        b.n_tokens = len(tokens)
        rc = self.L.llama_decode(self.ctx, b)
        if rc != 0:
            raise SystemExit(f"error: llama_decode returned {rc}")


def stats(name, n, secs):
    rates = [n / s for s in secs]
    return {"test": name, "n_tokens": n, "mean_tps": statistics.mean(rates),
            "sd_tps": statistics.stdev(rates) if len(rates) > 1 else 0.0, "samples_tps": rates}


def run_bench(args):
    n_ctx = max(args.n_prompt, args.n_gen, 256)
    L, model, ctx = load(args.model, n_ctx, args.threads, max(args.n_prompt, 1))
    n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    rng = random.Random(42)
    tokens = [rng.randrange(n_vocab) for _ in range(max(args.n_prompt, args.n_gen))]
    r = Runner(L, ctx, max(args.n_prompt, 1))
    tests = []

    def pp():
        r.clear()
        t0 = time.perf_counter()
        r.decode(tokens[:args.n_prompt], 0, False)
        return time.perf_counter() - t0

    def tg():
        r.clear()
        t0 = time.perf_counter()
        for i in range(args.n_gen):
            r.decode([tokens[i]], i, True)
        return time.perf_counter() - t0

    for name, n, fn in (("pp", args.n_prompt, pp), ("tg", args.n_gen, tg)):
        if n <= 0:
            continue
        fn()  # warm-up
        tests.append(stats(f"{name}{n}", n, [fn() for _ in range(args.reps)]))
    import llama_cpp
    out = {"engine": f"llama.cpp via llama-cpp-python {llama_cpp.__version__}",
           "system_info": L.llama_print_system_info().decode(errors="replace").strip(),
           "model_path": args.model, "n_threads": args.threads, "n_reps": args.reps,
           "tests": tests}
    print(json.dumps(out, indent=2))


def summarize(logits, n_vocab, k):
    mean = sum(logits) / n_vocab
    rms = math.sqrt(sum(v * v for v in logits) / n_vocab)
    top = sorted(range(n_vocab), key=lambda i: (-logits[i], i))[:k]
    return {f"top{k}": [[i, round(logits[i], 6)] for i in top],
            "mean": round(mean, 6), "rms": round(rms, 6)}


def run_logits(args):
    L, model, ctx = load(args.model, args.ctx, args.threads, args.ctx)
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    r = Runner(L, ctx, args.ctx)
    cases = []
    for prompt in args.prompt:
        data = prompt.encode()
        buf = (L.llama_token * (len(data) + 8))()
        n = L.llama_tokenize(vocab, data, len(data), buf, len(buf), True, False)
        ids = list(buf[:n])
        r.clear()
        r.decode(ids, 0, True)
        positions = []
        for i in range(len(ids)):
            row = L.llama_get_logits_ith(ctx, i)
            positions.append(summarize(row[:n_vocab], n_vocab, args.top))
        case = {"prompt": prompt, "n_vocab": n_vocab, "prompt_tokens": ids,
                "positions": positions}
        if args.greedy > 0:
            greedy, margins, last = [], [], list(L.llama_get_logits_ith(ctx, len(ids) - 1)[:n_vocab])
            for step in range(args.greedy):
                order = sorted(range(n_vocab), key=lambda j: -last[j])[:2]
                greedy.append(order[0])
                margins.append(round(last[order[0]] - last[order[1]], 6))
                if step + 1 < args.greedy:
                    r.decode([order[0]], len(ids) + step, True)
                    last = list(L.llama_get_logits_ith(ctx, 0)[:n_vocab])
            case["greedy"], case["greedy_margin"] = greedy, margins
        cases.append(case)
    import llama_cpp
    print(json.dumps({"model": args.model.rsplit("/", 1)[-1],
                      "producer": f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, "
                                  f"n_threads={args.threads}",
                      "cases": cases}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("bench")
    b.add_argument("-m", "--model", required=True)
    b.add_argument("-p", "--n-prompt", type=int, default=128)
    b.add_argument("-n", "--n-gen", type=int, default=64)
    b.add_argument("-r", "--reps", type=int, default=3)
    b.add_argument("-t", "--threads", type=int, default=2)
    g = sub.add_parser("logits")
    g.add_argument("-m", "--model", required=True)
    g.add_argument("-p", "--prompt", action="append", required=True)
    g.add_argument("--top", type=int, default=10)
    g.add_argument("--greedy", type=int, default=0)
    g.add_argument("-c", "--ctx", type=int, default=512)
    g.add_argument("-t", "--threads", type=int, default=2)
    args = ap.parse_args()
    try:
        import llama_cpp  # noqa: F401
    except ImportError as e:
        print(f"error: llama_cpp not importable ({e}); run scripts/setup-bench-venv.sh",
              file=sys.stderr)
        return 2
    run_bench(args) if args.mode == "bench" else run_logits(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
