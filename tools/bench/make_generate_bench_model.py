#!/usr/bin/env python3
"""The benchmark Llama for tools/bench-generate: hidden 512, 8 layers, intermediate 1376, 8 heads,
vocab 8192, random weights (transformers' init, seed 0), float32 safetensors, plus the same weights
rounded to bfloat16 in DIR-bf16. Not committed (~135 + 68 MB); made once into DIR (default
/tmp/lora4j-generate-bench/llama512) and reused.

  $(/work/shared/tools/python-env) tools/bench/make_generate_bench_model.py [DIR]
"""
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/lora4j-generate-bench/llama512"
    if os.path.isfile(os.path.join(out, "model.safetensors")) and os.path.isfile(os.path.join(out + "-bf16", "model.safetensors")):
        print("exists:", out)
        return
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=8192, hidden_size=512, intermediate_size=1376, num_hidden_layers=8,
                         num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=2048,
                         rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    model = LlamaForCausalLM(config).float()
    model.save_pretrained(out, safe_serialization=True)
    model.to(torch.bfloat16).save_pretrained(out + "-bf16", safe_serialization=True)
    print("wrote", out, "and", out + "-bf16")


if __name__ == "__main__":
    main()
