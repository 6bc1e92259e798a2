#!/usr/bin/env python3
"""Goldens for lora4j's Llama2cTokenizer: a line-by-line Python transcription of llama2.c's
encode()/decode() (run.c) applied to ../shared/models/stories260K/tok512.bin.

Run from the repository root:  python3 tools/golden/make_llama2c_tokenizer_goldens.py
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER = os.path.join(ROOT, "..", "shared", "models", "stories260K", "tok512.bin")
OUT = os.path.join(ROOT, "lora4j-core", "src", "test", "resources", "golden", "tokenizers", "llama2c_tok512.golden.json")


def load(path):
    data = open(path, "rb").read()
    (max_len,) = struct.unpack_from("<i", data, 0)
    pos, vocab, scores = 4, [], []
    while pos < len(data):
        score, length = struct.unpack_from("<fi", data, pos)
        pos += 8
        vocab.append(data[pos:pos + length])
        scores.append(score)
        pos += length
    return vocab, scores


def encode(vocab, scores, text, bos, eos):
    lookup = {}
    for i, piece in enumerate(vocab):  # llama2.c bsearches a sorted vocab; pieces are unique here
        lookup.setdefault(piece, i)
    tokens = []
    if bos:
        tokens.append(1)
    raw = text.encode("utf-8")
    if raw:
        tokens.append(lookup[b" "])  # the dummy prefix
    buf = b""
    for i, c in enumerate(raw):
        if (c & 0xC0) != 0x80:
            buf = b""
        buf += bytes([c])
        if i + 1 < len(raw) and (raw[i + 1] & 0xC0) == 0x80 and len(buf) < 4:
            continue
        if buf in lookup:
            tokens.append(lookup[buf])
        else:
            tokens.extend(b + 3 for b in buf)  # byte fallback: <0x00> is id 3
        buf = b""
    while True:
        best_score, best_id, best_idx = -1e10, -1, -1
        for i in range(len(tokens) - 1):
            merged = vocab[tokens[i]] + vocab[tokens[i + 1]]
            if merged in lookup and scores[lookup[merged]] > best_score:
                best_score, best_id, best_idx = scores[lookup[merged]], lookup[merged], i
        if best_idx == -1:
            break
        tokens[best_idx:best_idx + 2] = [best_id]
    if eos:
        tokens.append(2)
    return tokens


def decode(vocab, tokens, skip_special=False):
    out, prev = b"", -1
    for t in tokens:
        if skip_special and t in (0, 1, 2):  # <unk>, BOS, EOS left out; BOS still strips the next space
            prev = t
            continue
        piece = vocab[t]
        if prev == 1 and piece.startswith(b" "):
            piece = piece[1:]
        if len(piece) == 6 and piece.startswith(b"<0x") and piece.endswith(b">"):
            piece = bytes([int(piece[3:5], 16)])
        out += piece
        prev = t
    return out.decode("utf-8", errors="replace")


TEXTS = [
    "Once upon a time, there was a little girl named Lily.",
    "Hello world",
    "The cat sat on the mat. \"Wow!\" said Tom.\nThey played all day.",
    "  two leading spaces and trailing  ",
    "Café naïve — “quotes” 東京 😀 👨‍👩‍👧",
    "tabs\tand\nnewlines\n\n",
    "12345 + 678 = 13023",
    "a",
    "",
]


def main():
    vocab, scores = load(TOKENIZER)
    with open(os.path.join(ROOT, "..", "shared", "data", "tinystories", "tinystories.txt"), encoding="utf-8") as f:
        story = f.read()[:1500]  # a longer text: many merges, exercises the merge order
    cases = []
    for text in TEXTS + [story]:
        ids = encode(vocab, scores, text, bos=True, eos=False)
        cases.append({"text": text, "ids_with_bos": ids, "decoded": decode(vocab, ids),
                      "decoded_skip_special": decode(vocab, ids, skip_special=True)})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"tokenizer": "../shared/models/stories260K/tok512.bin", "cases": cases}, f,
                  ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
