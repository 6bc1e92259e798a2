#!/usr/bin/env python3
"""Greedy generation goldens: transformers' generate() on the tiny golden checkpoints, for lora4j's
KV-cache generation tests.

Run from the repository root, after make_model_goldens.py:
  $(/work/shared/tools/python-env) tools/golden/make_generation_goldens.py
  $(/work/shared/tools/python-env) tools/golden/make_generation_goldens.py processors
      transformers' repetition penalty, temperature, top-k, top-p and min-p (alone and chained in
      generate()'s order) on fixed logits: golden/generation/logits_processors.json.
  $(/work/shared/tools/python-env) tools/golden/make_generation_goldens.py adapter
      a PEFT LoRA adapter for llama_gqa_f32 and PEFT's greedy generation with it: golden/generation/llama_gqa_lora/.
  $(/work/shared/tools/python-env) tools/golden/make_generation_goldens.py stories DIR
      (DIR: `lora4j import-llama2c` of ../shared/models/stories260K) greedy from BOS, printed, and
      written to lora4j-core/src/test/resources/golden/generation/stories260K.json.

For each model under golden/models/ it writes golden/generation/<name>.json with two cases:
  single: one prompt, greedy, 16 new tokens;
  batch:  three prompts of different lengths left-padded with pad id 0 (transformers computes
          positions as cumsum(mask) - 1), greedy, 12 new tokens.
Each case records the generated ids per prompt (stopping at an EOS token of the config, which is
kept; transformers pads a finished row afterwards, those pads are dropped) and, per step, the gap
between the two largest logits, so that a test can tell a real mismatch from a near-tie (the margins
here are all far above float32 noise; the script asserts > 1e-4).
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM

MODELS = os.path.join("lora4j-core", "src", "test", "resources", "golden", "models")
OUT = os.path.join("lora4j-core", "src", "test", "resources", "golden", "generation")
NAMES = ["llama_gqa_f32", "qwen2_f32", "llama3_v4config_bf16", "gpt2_f32", "gpt2_bf16"]

SINGLE = [[1, 17, 42, 99, 3, 64]]
BATCH = [[1, 5, 88, 23, 101], [1, 77], [1, 12, 45, 126, 9, 60, 31, 8]]


def eos_ids(model):
    eos = model.generation_config.eos_token_id
    if eos is None:
        return []
    return eos if isinstance(eos, list) else [eos]


def greedy(model, prompts, new_tokens):
    length = max(len(p) for p in prompts)
    ids = torch.tensor([[0] * (length - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (length - len(p)) + [1] * len(p) for p in prompts])
    eos = eos_ids(model)
    out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=new_tokens,
                         min_new_tokens=0, pad_token_id=0, eos_token_id=eos or None,
                         output_scores=True, return_dict_in_generate=True, num_beams=1,
                         repetition_penalty=1.0, temperature=None, top_k=None, top_p=None)
    rows = []
    for b in range(len(prompts)):
        gen = out.sequences[b, length:].tolist()
        kept = []
        for t in gen:
            kept.append(t)
            if t in eos:
                break
        margins = []
        for step in range(len(kept)):
            top2 = torch.topk(out.scores[step][b].float(), 2).values
            margins.append(float(top2[0] - top2[1]))
        assert min(margins) > 1e-4, f"near-tie in greedy choice: {margins}"
        rows.append({"prompt": prompts[b], "generated": kept, "top2_margins": margins})
    return {"max_new_tokens": new_tokens, "eos_token_ids": eos, "sequences": rows}


def main():
    os.makedirs(OUT, exist_ok=True)
    if len(sys.argv) > 1 and sys.argv[1] == "stories":
        return stories(sys.argv[2])
    if len(sys.argv) > 1 and sys.argv[1] == "processors":
        return  # handled at the end of the file, once processors() is defined
    if len(sys.argv) > 1 and sys.argv[1] == "adapter":
        return adapter()
    for name in NAMES:
        model = AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, name), dtype=torch.float32).eval()
        doc = {"model": name, "single": greedy(model, SINGLE, 16), "batch": greedy(model, BATCH, 12)}
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(doc, f, indent=1)
        print(name, [r["generated"] for r in doc["batch"]["sequences"]])


def adapter():
    """A PEFT LoRA adapter on llama_gqa_f32 (B random, so it changes the output) and transformers + PEFT
    greedy generation with it: golden/generation/llama_gqa_lora/ (adapter files + expected.json)."""
    from peft import LoraConfig, get_peft_model
    base = AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, "llama_gqa_f32"), dtype=torch.float32).eval()
    plain = greedy(base, BATCH, 12)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "o_proj", "down_proj"], lora_dropout=0.0)
    model = get_peft_model(base, config)
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_A" in name or "lora_B" in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    model.eval()
    directory = os.path.join(OUT, "llama_gqa_lora")
    model.save_pretrained(directory)
    os.remove(os.path.join(directory, "README.md"))  # PEFT's model-card boilerplate
    doc = {"model": "llama_gqa_f32", "batch": greedy(model, BATCH, 12)}
    changed = sum(a["generated"] != b["generated"] for a, b in zip(doc["batch"]["sequences"], plain["sequences"]))
    assert changed > 0, "the adapter should change the greedy output"
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print("adapter", [r["generated"] for r in doc["batch"]["sequences"]], "changed", changed)


def stories(directory):
    """Greedy from BOS on the stories260K import: llama2.c's reference story."""
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    ids = torch.tensor([[1]])
    out = model.generate(input_ids=ids, do_sample=False, max_new_tokens=200, eos_token_id=None, pad_token_id=0,
                         temperature=None, top_k=None, top_p=None)
    generated = out[0, 1:].tolist()
    sys.path.insert(0, os.path.dirname(__file__))
    doc = {"prompt": [1], "max_new_tokens": 200, "generated": generated}
    with open(os.path.join(OUT, "stories260K.json"), "w") as f:
        json.dump(doc, f)
    print(generated)


if __name__ == "__main__":
    main()


def processors():
    """transformers' logits processors on fixed random logits: golden/generation/logits_processors.json."""
    from transformers.generation.logits_process import (MinPLogitsWarper, RepetitionPenaltyLogitsProcessor,
                                                        TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)
    g = torch.Generator().manual_seed(7)
    logits = (2.0 * torch.randn(1, 40, generator=g)).float()
    sixth = torch.sort(logits[0], descending=True).indices[5]
    logits[0, 0] = logits[0, sixth]  # a tie with the 6th largest: top-k(6) keeps both (ties with the k-th survive)
    seen = torch.tensor([[3, 5, 9, 9, 17, 30]])
    steps = [
        ("repetition_penalty", 1.3, RepetitionPenaltyLogitsProcessor(1.3)),
        ("temperature", 1.6, TemperatureLogitsWarper(1.6)),
        ("top_k", 6, TopKLogitsWarper(6)),
        ("top_p", 0.6, TopPLogitsWarper(0.6)),  # its cut must not fall inside the tie: torch.sort orders ties arbitrarily
        ("min_p", 0.1, MinPLogitsWarper(0.1)),
    ]
    cases = []
    for name, value, proc in steps:
        cases.append({"processor": name, "value": value, "output": proc(seen, logits.clone())[0].tolist()})
    chained = logits.clone()
    for _, _, proc in steps:
        chained = proc(seen, chained)
    doc = {"logits": logits[0].tolist(), "seen": seen[0].tolist(), "single": cases, "chained": chained[0].tolist()}
    with open(os.path.join(OUT, "logits_processors.json"), "w") as f:
        json.dump(doc, f, indent=1, allow_nan=True)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "processors":
    processors()
