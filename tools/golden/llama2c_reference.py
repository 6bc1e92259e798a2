#!/usr/bin/env python3
"""Reference for the llama2.c import: logits and eval loss of a llama2.c checkpoint computed with a
plain numpy re-implementation of llama2.c's forward pass (run.c semantics: the ORIGINAL weight
layout and interleaved RoPE, token by token with a KV cache), independent of lora4j's HF conversion.

Run from the repository root with PY=$(/work/shared/tools/python-env):

  $PY tools/golden/llama2c_reference.py stories
      tokenizes the first 40 paragraphs of ../shared/data/tinystories/tinystories.txt with a
      llama2.c-style encoder of tok512.bin (BOS + dummy-prefix space + greedy best-score merges, as
      run.c's encode), writes them as JSONL {"input_ids": [...]}, and the reference eval loss and the
      logits of the first positions, under lora4j-core/src/test/resources/golden/llama2c/stories260K/.
  $PY tools/golden/llama2c_reference.py verify-import DIR
      loads DIR (the output of `lora4j import-llama2c` for stories260K) with transformers'
      LlamaForCausalLM and prints its loss on the same sample next to the numpy reference: a check that
      the imported directory is a valid Hugging Face checkpoint (measured: 1.51385225 vs 1.51385219).
  $PY tools/golden/llama2c_reference.py tiny
      writes a tiny random legacy checkpoint (untied classifier, GQA) plus its reference logits under
      lora4j-core/src/test/resources/golden/llama2c/tiny/, so CI can test the import without ../shared.

Arithmetic is float64 (the checkpoint's float32 weights widened), so the reference is exact up to the
float32 rounding of the weights; lora4j computes in float32.
"""
import json
import os
import struct
import sys

import numpy as np

ROOT = os.path.join("lora4j-core", "src", "test", "resources", "golden", "llama2c")


def read_checkpoint(path):
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack("7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    w = np.frombuffer(data[28:], dtype=np.float32).astype(np.float64)
    hs = dim // n_heads
    sizes = [("tok", (vocab, dim)), ("rms_att", (n_layers, dim)), ("wq", (n_layers, n_heads * hs, dim)),
             ("wk", (n_layers, n_kv * hs, dim)), ("wv", (n_layers, n_kv * hs, dim)),
             ("wo", (n_layers, dim, n_heads * hs)), ("rms_ffn", (n_layers, dim)),
             ("w1", (n_layers, hidden, dim)), ("w2", (n_layers, dim, hidden)), ("w3", (n_layers, hidden, dim)),
             ("rms_final", (dim,)), ("freq_real", (seq_len, hs // 2)), ("freq_imag", (seq_len, hs // 2))]
    if not shared:
        sizes.append(("wcls", (vocab, dim)))
    p = {}
    o = 0
    for name, shape in sizes:
        n = int(np.prod(shape))
        p[name] = w[o:o + n].reshape(shape)
        o += n
    assert o == len(w), (o, len(w))
    if shared:
        p["wcls"] = p["tok"]
    cfg = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv, vocab=vocab, seq_len=seq_len)
    return cfg, p


def rmsnorm(x, w):
    return x / np.sqrt(np.mean(x * x) + 1e-5) * w


def forward_sequence(cfg, p, tokens):
    """llama2.c's forward(), one token at a time, returning logits [T, vocab]."""
    dim, n_heads, n_kv = cfg["dim"], cfg["n_heads"], cfg["n_kv"]
    hs = dim // n_heads
    kv_dim = n_kv * hs
    group = n_heads // n_kv
    L = cfg["n_layers"]
    key_cache = np.zeros((L, len(tokens), kv_dim))
    value_cache = np.zeros((L, len(tokens), kv_dim))
    out = []
    for pos, tok in enumerate(tokens):
        x = p["tok"][tok].copy()
        for l in range(L):
            xb = rmsnorm(x, p["rms_att"][l])
            q = p["wq"][l] @ xb
            k = p["wk"][l] @ xb
            v = p["wv"][l] @ xb
            # run.c: interleaved pairs (i, i+1) rotated by freq = 10000^(-(i % hs)/hs)
            for i in range(0, dim, 2):
                head_dim = i % hs
                freq = 1.0 / (10000.0 ** (head_dim / hs))
                val = pos * freq
                fcr, fci = np.cos(val), np.sin(val)
                for vec, lim in ((q, dim), (k, kv_dim)):
                    if i < lim:
                        v0, v1 = vec[i], vec[i + 1]
                        vec[i] = v0 * fcr - v1 * fci
                        vec[i + 1] = v0 * fci + v1 * fcr
            key_cache[l, pos] = k
            value_cache[l, pos] = v
            att_out = np.zeros(dim)
            for h in range(n_heads):
                qh = q[h * hs:(h + 1) * hs]
                kvh = h // group
                keys = key_cache[l, :pos + 1, kvh * hs:(kvh + 1) * hs]
                scores = keys @ qh / np.sqrt(hs)
                scores = np.exp(scores - scores.max())
                scores /= scores.sum()
                att_out[h * hs:(h + 1) * hs] = scores @ value_cache[l, :pos + 1, kvh * hs:(kvh + 1) * hs]
            x = x + p["wo"][l] @ att_out
            xb = rmsnorm(x, p["rms_ffn"][l])
            h1 = p["w1"][l] @ xb
            h3 = p["w3"][l] @ xb
            x = x + p["w2"][l] @ (h1 / (1 + np.exp(-h1)) * h3)
        x = rmsnorm(x, p["rms_final"])
        out.append(p["wcls"] @ x)
    return np.array(out)


def mean_loss(cfg, p, sequences):
    total, count = 0.0, 0
    for ids in sequences:
        logits = forward_sequence(cfg, p, ids)
        for t in range(len(ids) - 1):
            z = logits[t]
            m = z.max()
            lse = m + np.log(np.exp(z - m).sum())
            total += lse - z[ids[t + 1]]
            count += 1
    return total / count, count


# ---- llama2.c-style tokenizer (run.c's encode) -------------------------------------------------------

def read_tokenizer(path, vocab_size):
    with open(path, "rb") as f:
        data = f.read()
    (max_len,) = struct.unpack("i", data[:4])
    o = 4
    vocab, scores = [], []
    for _ in range(vocab_size):
        score, n = struct.unpack("fi", data[o:o + 8])
        o += 8
        vocab.append(data[o:o + n])
        scores.append(score)
        o += n
    return vocab, scores


def encode(text, vocab, scores):
    lookup = {tok: i for i, tok in enumerate(vocab)}
    tokens = [1]  # BOS
    if text:
        tokens.append(lookup[b" "])  # dummy prefix, as sentencepiece's add_dummy_prefix
    for ch in text:
        b = ch.encode("utf-8")
        if b in lookup:
            tokens.append(lookup[b])
        else:
            tokens.extend(x + 3 for x in b)  # byte fallback: <0xXX> tokens start at id 3
    while True:
        best, best_i = -1e10, -1
        for i in range(len(tokens) - 1):
            merged = vocab[tokens[i]] + vocab[tokens[i + 1]]
            j = lookup.get(merged)
            if j is not None and scores[j] > best:
                best, best_i = scores[j], i
        if best_i < 0:
            break
        tokens[best_i:best_i + 2] = [lookup[vocab[tokens[best_i]] + vocab[tokens[best_i + 1]]]]
    return tokens


def stories():
    shared = os.path.join("..", "shared") if os.path.isdir(os.path.join("..", "shared")) else "/work/shared"
    model_dir = os.path.join(shared, "models", "stories260K")
    cfg, p = read_checkpoint(os.path.join(model_dir, "stories260K.bin"))
    vocab, scores = read_tokenizer(os.path.join(model_dir, "tok512.bin"), cfg["vocab"])
    with open(os.path.join(shared, "data", "tinystories", "tinystories.txt")) as f:
        paragraphs = [line.strip() for line in f if line.strip()][:40]
    sequences = [encode(t, vocab, scores)[:256] for t in paragraphs]
    out = os.path.join(ROOT, "stories260K")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tinystories_sample.jsonl"), "w") as f:
        for s in sequences:
            f.write(json.dumps({"input_ids": s}) + "\n")
    loss, count = mean_loss(cfg, p, sequences)
    first = [forward_sequence(cfg, p, s[:12]) for s in sequences[:2]]
    ref = {"config": cfg, "loss": loss, "perplexity": float(np.exp(loss)), "tokens": count,
           "logits_input_ids": [s[:12] for s in sequences[:2]],
           "logits": [[[round(float(x), 6) for x in row] for row in seq] for seq in first]}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)
    print("stories260K loss", loss, "ppl", np.exp(loss), "tokens", count)


def tiny():
    rng = np.random.default_rng(7)
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = 16, 40, 2, 4, 2, 32, 24
    hs = dim // n_heads
    parts = [rng.normal(0, 0.3, (vocab, dim)),
             1 + 0.2 * rng.normal(size=(n_layers, dim)),
             rng.normal(0, 0.3, (n_layers, dim, dim)),
             rng.normal(0, 0.3, (n_layers, n_kv * hs, dim)),
             rng.normal(0, 0.3, (n_layers, n_kv * hs, dim)),
             rng.normal(0, 0.3, (n_layers, dim, dim)),
             1 + 0.2 * rng.normal(size=(n_layers, dim)),
             rng.normal(0, 0.3, (n_layers, hidden, dim)),
             rng.normal(0, 0.3, (n_layers, dim, hidden)),
             rng.normal(0, 0.3, (n_layers, hidden, dim)),
             1 + 0.2 * rng.normal(size=(dim,))]
    pos = np.arange(seq_len)[:, None]
    freqs = 1.0 / (10000.0 ** (np.arange(0, hs, 2) / hs))
    parts += [np.cos(pos * freqs), np.sin(pos * freqs)]
    parts.append(rng.normal(0, 0.3, (vocab, dim)))  # untied classifier: vocab_size stored negative
    out = os.path.join(ROOT, "tiny")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "tiny.bin")
    with open(path, "wb") as f:
        f.write(struct.pack("7i", dim, hidden, n_layers, n_heads, n_kv, -vocab, seq_len))
        for a in parts:
            f.write(np.asarray(a, dtype=np.float32).tobytes())
    # A tokenizer file of the right vocabulary size (llama2.c format), for the import's checks.
    with open(os.path.join(out, "tok32.bin"), "wb") as f:
        f.write(struct.pack("i", 3))
        for i in range(vocab):
            piece = ("t%d" % i).encode()
            f.write(struct.pack("fi", -float(i), len(piece)) + piece)
    cfg, p = read_checkpoint(path)
    sequences = [[1, 5, 9, 30, 2, 17, 8, 8, 21, 3], [1, 31, 0, 4]]
    loss, count = mean_loss(cfg, p, sequences)
    logits = [forward_sequence(cfg, p, s) for s in sequences]
    with open(os.path.join(out, "tiny.jsonl"), "w") as f:
        for s in sequences:
            f.write(json.dumps({"input_ids": s}) + "\n")
    ref = {"config": cfg, "loss": loss, "tokens": count, "logits_input_ids": sequences,
           "logits": [[[round(float(x), 7) for x in row] for row in seq] for seq in logits]}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)
    print("tiny loss", loss, "tokens", count)


def verify_import(directory):
    import torch
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    sample = os.path.join(ROOT, "stories260K")
    total, count = 0.0, 0
    with open(os.path.join(sample, "tinystories_sample.jsonl")) as f:
        for line in f:
            ids = torch.tensor([json.loads(line)["input_ids"]])
            with torch.no_grad():
                logp = torch.log_softmax(model(ids).logits[0].double(), -1)
            total -= logp[torch.arange(ids.shape[1] - 1), ids[0, 1:]].sum().item()
            count += ids.shape[1] - 1
    with open(os.path.join(sample, "reference.json")) as f:
        ref = json.load(f)
    print("transformers on", directory, "loss", total / count, "tokens", count)
    print("numpy llama2.c reference loss", ref["loss"], "tokens", ref["tokens"])


if __name__ == "__main__":
    if sys.argv[1] == "verify-import":
        verify_import(sys.argv[2])
    else:
        {"stories": stories, "tiny": tiny}[sys.argv[1]]()
