#!/usr/bin/env python3
# Regenerates tests/unit/text/data: llama.cpp's own tokenizations (through llama-cpp-python in
# the venv of scripts/setup-bench-venv.sh) of
#   mixed.inp    - generated edge cases: scripts, digits, contractions, white space kinds,
#                  special-token texts, malformed UTF-8 (seeded, so the file is stable);
#   seedtext.inp - from shared/testdata/vocab,
# for the shared vocabularies (add_special/parse_special both off and both on) and for the
# GPT-2 vocabulary re-labelled with other tokenizer.ggml.pre values, which exercises the
# pre-tokenizers no shared vocabulary uses. Usage: .venv/bin/python scripts/gen_tokenizer_refs.py
import os
import random
import struct
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "testdata", "vocab")
OUT = os.path.join(ROOT, "tests", "unit", "text", "data")
SEP = b"\n__ggml_vocab_test__\n"
VOCABS = ["llama-spm", "llama-bpe", "gpt-2", "phi-3", "qwen2", "starcoder"]
PRES = ["default", "falcon", "deepseek-llm", "deepseek-coder", "refact"]

PIECES = [s.encode() if isinstance(s, str) else s for s in [
    "hello", "Hello", " world", "'s", "'S", "'ll", "'Re", "don't", "I'M", "123", "4567890",
    "3.14", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\t\n ", ".", ",", "!?", "(",
    "))", "[]{}", "$", "+=", "<=>", "^~|`", "#", "@", "_", "-", "--", "안녕하세요", " 세계",
    "漢字かなカナ", "😀", "🦙🚀✅", "e\u0301", "\u00a0", "\u3000", "\u2009", "\u0085", "\u200d",
    "Ωμέγα", "Привет", "مرحبا", "नमस्ते", "ＡＢＣ１２３", "٣٤٥", "Ⅻ", "½", "ﬁ", "ſt",
    "\U0001F468\u200d\U0001F469", "\ue000", "<s>", "<unk>", "<|endoftext|>", "<|im_start|>",
    "<|im_end|>", "<|assistant|>", "<|end|>", "<|begin_of_text|>", "<fim_prefix>", "[INST]",
    b"\x80", b"\xc3", b"\xe2\x41", b"\xff", b"\xf0\x9f", b"\xc0\x80", b"\xed\xa0\x80", "<0x0A>",
    "\u2581", "a" * 60, "x" * 3, "0" * 7, " " * 10, "\x0b", "\x0c", "\x1c", "\x00"]]


def mixed_cases(n=200, seed=20261123):
    rng = random.Random(seed)
    return [b"".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8))) for _ in range(n)]


def with_pre(src, dst, pre):
    """Copies a vocab-only GGUF (no tensors) with tokenizer.ggml.pre replaced."""
    b = open(src, "rb").read()
    pos = 24
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def string():
        nonlocal pos
        (n,) = struct.unpack_from("<Q", b, pos)
        pos += 8 + n
        return b[pos - n:pos]

    def skip(t):
        nonlocal pos
        if t == 8:
            string()
        elif t == 9:
            et, n = struct.unpack_from("<IQ", b, pos)
            pos += 12
            for _ in range(n if et == 8 else 0):
                string()
            if et != 8:
                pos += sizes[et] * n
        else:
            pos += sizes[t]

    _, _, n_tensors, n_kv = struct.unpack_from("<IIQQ", b, 0)
    assert n_tensors == 0, "expects a vocab-only file"
    out = bytearray(b[:24])
    for _ in range(n_kv):
        start = pos
        key = string()
        (t,) = struct.unpack_from("<I", b, pos)
        pos += 4
        skip(t)
        if key == b"tokenizer.ggml.pre":
            v = pre.encode()
            out += struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(v)) + v
        else:
            out += b[start:pos]
    out += b[pos:]
    open(dst, "wb").write(out)


def write_out(llm, cases, path, special):
    with open(path, "w") as f:
        for c in cases:
            ids = llm.tokenize(c, add_bos=special, special=special)
            f.write("".join(" %d" % i for i in ids) + "\n")


def main():
    from llama_cpp import Llama
    os.makedirs(OUT, exist_ok=True)
    mixed = mixed_cases()
    with open(os.path.join(OUT, "mixed.inp"), "wb") as f:
        f.write(b"".join(c + SEP for c in mixed))
    seed = open(os.path.join(SHARED, "seedtext.inp"), "rb").read().split(SEP)
    seed = [c for c in seed[:-1]] + ([seed[-1]] if seed[-1] else [])
    for v in VOCABS:
        llm = Llama(model_path=os.path.join(SHARED, f"ggml-vocab-{v}.gguf"), vocab_only=True,
                    verbose=False)
        write_out(llm, mixed, os.path.join(OUT, f"{v}.mixed.out"), False)
        write_out(llm, mixed, os.path.join(OUT, f"{v}.mixed.special.out"), True)
    with tempfile.TemporaryDirectory() as tmp:
        for pre in PRES:
            path = os.path.join(tmp, f"gpt2-{pre}.gguf")
            with_pre(os.path.join(SHARED, "ggml-vocab-gpt-2.gguf"), path, pre)
            llm = Llama(model_path=path, vocab_only=True, verbose=False)
            write_out(llm, mixed, os.path.join(OUT, f"gpt-2+{pre}.mixed.out"), False)
            write_out(llm, seed, os.path.join(OUT, f"gpt-2+{pre}.seedtext.out"), False)
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
