#!/usr/bin/env python3
"""Tiny random checkpoints and their logits, made with Hugging Face transformers, for lora4j's model tests.

Run from the repository root:  $(/work/shared/tools/python-env) tools/golden/make_model_goldens.py

For each model it writes lora4j-core/src/test/resources/golden/models/<name>/:
  config.json         as transformers writes it (5.x: rope_parameters), or rewritten in the
                      transformers-4.x style (rope_theta + rope_scaling) for the *_v4config models;
                      either way the reference below is computed from the model transformers loads
                      back from that very directory, so both config styles are checked.
  model.safetensors   the weights, in F32 or BF16.
  logits.json         fixed inputs (a batch of 3 rows of 8 tokens: full, right-padded, left-padded
                      with explicit position ids) and the logits at every non-padded position.

Weights are random but not the tiny transformers init: norms are 1 + N(0, 0.2) and biases N(0, 0.1) so
that a layer that forgets a norm weight or a bias fails the test; matrices are N(0, 0.15) so that logits
have magnitude ~1 and an absolute tolerance is meaningful.

BF16 checkpoints: the reference loads the BF16 weights upcast to float32 (dtype=torch.float32) and
computes in float32, which is exactly what lora4j does (BF16 storage, F32 arithmetic), so the F32
tolerance applies to them too.
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM, GPT2Config, LlamaConfig, Qwen2Config

OUT = os.path.join("lora4j-core", "src", "test", "resources", "golden", "models")

# Row 0: 8 real tokens. Row 1: 5 real tokens then padding (right padding, positions 0..7 as
# transformers uses by default). Row 2: 3 pads then 5 real tokens (left padding) with explicit
# position ids = cumsum(mask) - 1 clamped at 0, as generate() computes them.
INPUT_IDS = [
    [1, 17, 42, 99, 3, 64, 120, 7],
    [1, 5, 88, 23, 101, 0, 0, 0],
    [0, 0, 0, 1, 77, 12, 45, 126],
]
ATTENTION_MASK = [
    [1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 1, 1, 1],
]


def position_ids_for(mask):
    m = torch.tensor(mask)
    return (m.cumsum(-1) - 1).clamp(min=0)


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_norm = ("norm" in name or ".ln_" in name or name.startswith("ln_")) and name.endswith("weight")
            if is_norm:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def save_checkpoint(model, directory, dtype):
    os.makedirs(directory, exist_ok=True)
    model.config.save_pretrained(directory)
    state = {}
    for k, v in model.state_dict().items():
        if k == "lm_head.weight" and model.config.tie_word_embeddings:
            continue  # tied: stored once, as the embedding
        if k.endswith(".attn.bias") or k.endswith(".attn.masked_bias"):
            continue  # GPT-2 causal-mask buffers, not weights
        state[k] = v.detach().to(dtype).contiguous()
    save_file(state, os.path.join(directory, "model.safetensors"), metadata={"format": "pt"})


def rewrite_as_v4_config(directory, rope_scaling):
    """Rewrites config.json the way transformers 4.x wrote it: rope_theta + rope_scaling, no rope_parameters."""
    path = os.path.join(directory, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    params = cfg.pop("rope_parameters")
    cfg["rope_theta"] = params["rope_theta"]
    cfg["rope_scaling"] = rope_scaling
    cfg["transformers_version"] = "4.46.0"
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)


def write_reference(directory, name, notes):
    # Load what lora4j will load: the files on disk, weights upcast to float32.
    config = AutoConfig.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    ids = torch.tensor(INPUT_IDS)
    mask = torch.tensor(ATTENTION_MASK)
    positions = torch.stack([torch.arange(ids.shape[1])] * 2 + [position_ids_for(ATTENTION_MASK)[2]])
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    rows = []
    for b in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            if ATTENTION_MASK[b][t]:
                rows.append({"batch": b, "position": t, "logits": [round(float(x), 7) for x in logits[b, t]]})
    ref = {
        "model": name,
        "notes": notes,
        "input_ids": INPUT_IDS,
        "attention_mask": ATTENTION_MASK,
        "position_ids": positions.tolist(),
        "logits": rows,
    }
    rotary = getattr(getattr(model, "model", None), "rotary_emb", None)
    if rotary is not None:
        ref["inv_freq"] = [float(x) for x in rotary.inv_freq]
        ref["attention_scaling"] = float(rotary.attention_scaling)
    with open(os.path.join(directory, "logits.json"), "w") as f:
        json.dump(ref, f)
    print(name, "config", type(config).__name__, "max |logit|", float(logits.abs().max()))


def make(name, config, dtype, seed, notes, v4_rope_scaling=None):
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    randomize(model, seed)
    if config.tie_word_embeddings:
        model.tie_weights()
    save_checkpoint(model, directory, dtype)
    if v4_rope_scaling is not None:
        rewrite_as_v4_config(directory, v4_rope_scaling)
    write_reference(directory, name, notes)


def write_rope_goldens():
    """inv_freq exactly as transformers computes it, for the rope types lora4j supports, at real sizes."""
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    cases = [
        ("default", dict(hidden_size=4096, num_attention_heads=32,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0})),
        ("linear", dict(hidden_size=2048, num_attention_heads=32,
                        rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0})),
        ("llama3", dict(hidden_size=4096, num_attention_heads=32, max_position_embeddings=131072,
                        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                         "original_max_position_embeddings": 8192})),
    ]
    out = []
    for name, kwargs in cases:
        config = LlamaConfig(**kwargs)
        rope_type = config.rope_parameters["rope_type"]
        if rope_type == "default":
            from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
            inv_freq, scaling = LlamaRotaryEmbedding.compute_default_rope_parameters(config)
        else:
            inv_freq, scaling = ROPE_INIT_FUNCTIONS[rope_type](config, None)
        out.append({"name": name, "config": config.to_diff_dict(), "head_dim": config.head_dim,
                    "inv_freq": [float(x) for x in inv_freq], "attention_scaling": float(scaling)})
    with open(os.path.join(OUT, "rope_inv_freq.json"), "w") as f:
        json.dump(out, f, indent=1)


def main():
    write_rope_goldens()
    llama_common = dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                        rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2)
    make("llama_gqa_f32",
         LlamaConfig(**llama_common, tie_word_embeddings=False,
                     rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
         torch.float32, 1,
         "Llama, GQA 4 heads / 2 kv heads, untied head, transformers-5 rope_parameters config, F32")
    # head_dim 32 given explicitly (not hidden/heads = 16), biases on attention and MLP, tied head,
    # llama3 rope scaling with a small original context so all three frequency bands occur.
    llama3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 32}
    make("llama3_v4config_bf16",
         LlamaConfig(**llama_common, head_dim=32, attention_bias=True, mlp_bias=True, tie_word_embeddings=True,
                     rope_parameters=dict(llama3, rope_theta=500000.0)),
         torch.bfloat16, 2,
         "Llama, explicit head_dim 32, attention+mlp bias, tied, llama3 rope_scaling in a transformers-4.x "
         "config (rope_theta + rope_scaling), BF16 weights upcast to F32 in the reference",
         v4_rope_scaling=llama3)
    make("qwen2_f32",
         Qwen2Config(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                     rms_norm_eps=1e-6, tie_word_embeddings=True,
                     rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
         torch.float32, 3, "Qwen2: bias on q/k/v only, GQA, tied head, F32")
    gpt2 = dict(vocab_size=128, n_embd=64, n_layer=2, n_head=4, n_positions=64, layer_norm_epsilon=1e-5,
                bos_token_id=1, eos_token_id=2)
    make("gpt2_f32", GPT2Config(**gpt2), torch.float32, 4,
         "GPT-2: Conv1D [in,out] weights, fused c_attn, learned positions, gelu_new, tied head, F32")
    make("gpt2_bf16", GPT2Config(**gpt2), torch.bfloat16, 5,
         "GPT-2, BF16 weights upcast to F32 in the reference")


if __name__ == "__main__":
    sys.exit(main())
