"""Writes the random Llama checkpoint and token batch of the LoRA training-step benchmark.

Usage: make_bench_model.py OUT_DIR [--dtype float32|bfloat16] [--layers N] [--seq-len T]
The model (hidden 512, 8 layers, 8 heads, intermediate 1376, vocab 8192) is initialized by
transformers from a fixed seed and saved as model.safetensors + config.json; tokens.json holds the
batch (4 x 256 ids, seeded) that both lora4j and the PyTorch + PEFT peer train on. Nothing here is
committed: the runner writes it into a cache directory.
"""
import argparse
import json
import os

import torch
from transformers import LlamaConfig, LlamaForCausalLM

BATCH = 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--layers", type=int, default=8, help="fewer for the quick long-run memory check")
    ap.add_argument("--seq-len", type=int, default=256)
    args = ap.parse_args()
    torch.manual_seed(1234)
    config = LlamaConfig(
        vocab_size=8192, hidden_size=512, intermediate_size=1376, num_hidden_layers=args.layers,
        num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=1024,
        rms_norm_eps=1e-5, tie_word_embeddings=False, attn_implementation="eager")
    model = LlamaForCausalLM(config)
    # transformers initializes every Linear with N(0, 0.02); that is fine for timing.
    model = model.to(getattr(torch, args.dtype))
    os.makedirs(args.out, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    g = torch.Generator().manual_seed(99)
    ids = torch.randint(0, config.vocab_size, (BATCH, args.seq_len), generator=g)
    with open(os.path.join(args.out, "tokens.json"), "w") as f:
        json.dump({"batch": BATCH, "seq_len": args.seq_len, "input_ids": ids.flatten().tolist()}, f)


if __name__ == "__main__":
    main()
