#!/usr/bin/env python3
"""A byte-level BPE tokenizer.json with exactly the benchmark Llama's vocabulary (8192 ids), so that
`lora4j generate` (which needs a tokenizer to print what it generates) can run the random benchmark
model of tools/bench/make_generate_bench_model.py: every id the model may pick decodes to some bytes.
Trained on tiny Shakespeare + TinyStories (../shared/data); ids 0-2 are <unk>, <s>, </s> as in the
model's config (bos 1, eos 2). Used by tools/bench-coldstart.

  $(/work/shared/tools/python-env) tools/bench/make_bench_tokenizer.py MODEL_DIR [VOCAB]
"""
import os
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data")


def main():
    out = sys.argv[1]
    vocab = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
    path = os.path.join(out, "tokenizer.json")
    if os.path.isfile(path):
        print("exists:", path)
        return
    texts = []
    for name in ("tinyshakespeare/input.txt", "tinystories/tinystories.txt"):
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            texts.extend(line for line in f.read().splitlines() if line.strip())
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    if tok.get_vocab_size() != vocab:
        sys.exit(f"the corpus gave {tok.get_vocab_size()} tokens, not {vocab}")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tok.save(path)
    print("wrote", path)


if __name__ == "__main__":
    main()
