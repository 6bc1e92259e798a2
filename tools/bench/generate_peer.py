#!/usr/bin/env python3
"""The transformers half of tools/bench-generate: greedy generate() at batch 1 on CPU, 2 threads.

  generate_peer.py MODEL_DIR PROMPT_TOKENS NEW_TOKENS REPS [DTYPE]

DTYPE (default float32) is the dtype transformers loads and computes in: "bfloat16" for the BF16
checkpoint row, as transformers runs a BF16 checkpoint by default (dtype="auto").

Same prompt as GenerateBench (ids 3 + (i*7919 mod (vocab-3))), no EOS (every run generates exactly
NEW_TOKENS). Prefill = generate(max_new_tokens=1): the prompt's forward pass plus the first token;
decode = generate(max_new_tokens=NEW_TOKENS) minus that, over NEW_TOKENS - 1 steps. Two warm-up runs,
then the median of REPS. Prints: prefill_tok_s=<median> decode_tok_s=<median>
"""
import statistics
import sys
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    directory, prompt_tokens, new_tokens, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    dtype = getattr(torch, sys.argv[5]) if len(sys.argv) > 5 else torch.float32
    torch.set_num_threads(2)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype).eval()
    model.generation_config.eos_token_id = None
    vocab = model.config.vocab_size
    ids = torch.tensor([[3 + (i * 7919) % (vocab - 3) for i in range(prompt_tokens)]])
    mask = torch.ones_like(ids)

    def run(n):
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=n,
                                 min_new_tokens=n, pad_token_id=0, temperature=None, top_k=None, top_p=None)
        assert out.shape[1] == prompt_tokens + n
        return time.perf_counter() - start

    for _ in range(2):
        run(1)
        run(new_tokens)
    prefill, decode = [], []
    for _ in range(reps):
        p = run(1)
        total = run(new_tokens)
        prefill.append(prompt_tokens / p)
        decode.append((new_tokens - 1) / max(total - p, 1e-9))
    print(f"prefill_tok_s={statistics.median(prefill):.1f} decode_tok_s={statistics.median(decode):.1f}")


if __name__ == "__main__":
    main()
