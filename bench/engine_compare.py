#!/usr/bin/env python3
"""Prints the engine benchmark table of bench/engine_bench.sh: for each model, ml-engine's
pp/tg tokens/s (from `ml-engine bench model -o json`) beside llama.cpp's from the same run
(bench/engine_peer.py bench), the ratio, the issue's reference figures (llama.cpp 0.5.0 on an
AVX-512 EPYC) and the fraction of the memory bandwidth the decode reaches; then the logits
agreement of the two engines (`ml-engine logits --json --top 40` vs engine_peer.py logits).

  engine_compare.py bench TYPE=OURS.json[:OURS2.json...],PEER.json[:PEER2.json...] [...]
  engine_compare.py logits TYPE=OURS.json,PEER.json [...]
Several files per engine are rounds of the same benchmark (the engines taking turns): their
samples are pooled. Missing or unreadable files are reported and skipped; nothing here fails
the run.
"""
import json
import statistics
import sys

# llama.cpp 0.5.0, TinyLlama-1.1B, 2 threads, AVX-512 EPYC (the issue's figures), tok/s.
REFERENCE = {"Q4_0": {"pp128": 168.0, "tg64": 37.6}, "Q8_0": {"pp128": 103.0, "tg64": 25.0},
             "Q4_K_M": {"pp128": 133.0, "tg64": 42.3}}


def read(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"  ({path}: {e})")
        return None


def read_rounds(paths):
    """One document from the rounds at `paths` (':'-separated): each test's samples pooled,
    the bandwidth and the decode's fraction of it averaged."""
    docs = [d for d in (read(p) for p in paths.split(":")) if d]
    if not docs:
        return None
    doc = dict(docs[0])
    merged = {}
    for d in docs:
        for t in d.get("tests", []):
            m = merged.setdefault(t["test"], dict(t, samples_tps=[]))
            m["samples_tps"] = m["samples_tps"] + list(t.get("samples_tps") or [t["mean_tps"]])
    for t in merged.values():
        xs = t["samples_tps"]
        t["mean_tps"] = statistics.mean(xs)
        t["sd_tps"] = statistics.stdev(xs) if len(xs) > 1 else 0.0
    doc["tests"] = list(merged.values())
    doc["n_reps"] = sum(d.get("n_reps", 0) for d in docs)
    doc["n_rounds"] = len(docs)
    if "bandwidth_gb_per_s" in doc:
        doc["bandwidth_gb_per_s"] = statistics.mean(d["bandwidth_gb_per_s"] for d in docs)
        # Each round pairs its decode runs with bandwidth passes taken around them (the host's
        # bandwidth drifts within seconds): average the rounds' fractions.
        fractions = [d["tg_bandwidth_fraction"] for d in docs if d.get("tg_bandwidth_fraction")]
        if fractions:
            doc["tg_bandwidth_fraction"] = statistics.mean(fractions)
    return doc


def tests(doc):
    return {t["test"]: t for t in (doc or {}).get("tests", [])}


def fmt(t):
    return f"{t['mean_tps']:8.2f} ± {t['sd_tps']:6.2f}" if t else f"{'-':>17}"


def bench(pairs):
    print(f"| {'type':7} | {'test':6} | {'ml-engine t/s':>17} | {'llama.cpp t/s':>17} | "
          f"{'ratio':>6} | {'issue ref':>9} | {'vs ref':>6} |")
    print("|---------|--------|------------------:|------------------:|-------:|----------:|-------:|")
    notes, desc, pdesc = [], None, None
    for typ, ours_path, peer_path in pairs:
        ours, peer = read_rounds(ours_path), read_rounds(peer_path)
        o, p = tests(ours), tests(peer)
        for name in sorted(set(o) | set(p), key=lambda s: (s[:2] != "pp", s)):
            a, b = o.get(name), p.get(name)
            ratio = f"{a['mean_tps'] / b['mean_tps']:6.2f}" if a and b and b["mean_tps"] else "     -"
            ref = REFERENCE.get(typ, {}).get(name)
            vs = f"{a['mean_tps'] / ref:6.2f}" if a and ref else "     -"
            print(f"| {typ:7} | {name:6} | {fmt(a)} | {fmt(b)} | {ratio} | "
                  f"{ref if ref else '-':>9} | {vs} |")
        if ours:
            notes.append(f"{typ}: decode reads {ours['weight_bytes_per_token'] / 2**20:.1f} MiB/token, "
                         f"bandwidth {ours['bandwidth_gb_per_s']:.2f} GB/s (mean of rounds), tg reaches "
                         f"{100 * ours['tg_bandwidth_fraction']:.0f}% of it")
            desc = (f"ml-engine commit {ours['commit']} ({ours['build_type']}), "
                    f"{ours['n_threads']} threads, {ours['n_reps']} reps in {ours['n_rounds']} "
                    f"rounds, CPU {ours['cpu']}")
        if peer:
            pdesc = (f"{peer['engine']}, {peer['n_threads']} threads, {peer['n_reps']} reps in "
                     f"{peer['n_rounds']} rounds")
    for line in notes + [desc or "ml-engine: no figures", pdesc or "peer: no figures"]:
        print(line)


def logits(pairs):
    print(f"| {'type':7} | {'positions':>9} | {'top-1 agree':>11} | {'max diff/rms':>14} | "
          f"{'mean diff/rms':>15} | {'peer top-10 missing':>19} |")
    print("|---------|----------:|------------:|---------------:|----------------:|--------------------:|")
    for typ, ours_path, peer_path in pairs:
        ours, peer = read(ours_path), read(peer_path)
        if not ours or not peer:
            continue
        n = agree = missing = 0
        diffs = []
        for oc, pc in zip(ours["cases"], peer["cases"]):
            if oc["prompt_tokens"] != pc["prompt_tokens"]:
                print(f"  {typ}: prompt tokens differ for {oc['prompt']!r}")
                continue
            for op, pp in zip(oc["positions"], pc["positions"]):
                otop = next(v for k, v in op.items() if k.startswith("top"))
                ptop = next(v for k, v in pp.items() if k.startswith("top"))
                ours_by_id = {t: l for t, l in otop}
                n += 1
                agree += otop[0][0] == ptop[0][0]
                for t, l in ptop[:10]:
                    if t in ours_by_id:
                        diffs.append(abs(ours_by_id[t] - l) / max(pp["rms"], 1e-6))
                    else:
                        missing += 1
        if n:
            print(f"| {typ:7} | {n:9d} | {agree / n:11.1%} | {max(diffs, default=0):14.4f} | "
                  f"{sum(diffs) / max(len(diffs), 1):15.4f} | {missing:19d} |")


def main():
    mode, specs = sys.argv[1], sys.argv[2:]
    pairs = []
    for s in specs:
        typ, files = s.split("=", 1)
        ours, peer = files.split(",", 1)
        pairs.append((typ, ours, peer))
    bench(pairs) if mode == "bench" else logits(pairs)


if __name__ == "__main__":
    main()
