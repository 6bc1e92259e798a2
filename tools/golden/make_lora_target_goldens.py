"""Goldens for LoRA target matching: which modules PEFT adapts, with which rank and scale.

For a tiny Llama and a tiny GPT-2 (random weights; only the module tree matters) and several
LoraConfigs, records every module path with its kind and, per config, the adapted modules with r and
scaling as PEFT computes them. Run: PY=$(../shared/tools/python-env) && $PY tools/golden/make_lora_target_goldens.py
"""
import json, sys, warnings
import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM, GPT2Config, GPT2LMHeadModel
from transformers.pytorch_utils import Conv1D
from peft import LoraConfig, get_peft_model

warnings.filterwarnings("ignore")
out_path = sys.argv[1] if len(sys.argv) > 1 else "lora4j-core/src/test/resources/golden/lora/targets.json"

def tiny_llama():
    return LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=3,
                                        num_attention_heads=2, num_key_value_heads=1))

def tiny_gpt2():
    return GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=16, n_layer=2, n_head=2, n_positions=32))

def modules(model):
    out = []
    for name, m in model.named_modules():
        if not name:
            continue
        kind = "LINEAR" if isinstance(m, (nn.Linear, Conv1D)) else "EMBEDDING" if isinstance(m, nn.Embedding) else "OTHER"
        out.append({"path": name, "kind": kind, "output_head": name in ("lm_head",)})
    return out

CONFIGS = {
    "llama": [
        dict(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]),
        dict(r=4, lora_alpha=8, target_modules="all-linear", use_rslora=True),
        dict(r=8, lora_alpha=16, target_modules=r".*\.(q|k)_proj"),
        dict(r=8, lora_alpha=16, target_modules=["q_proj", "down_proj"], layers_to_transform=[0, 2], layers_pattern="layers"),
        dict(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj", "o_proj"], rank_pattern={"o_proj": 2, "layers.1.q_proj": 16},
             alpha_pattern={r"layers\.2\..*": 4}),
        dict(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj", "embed_tokens"], exclude_modules=["model.layers.1.self_attn.v_proj"]),
        dict(r=8, lora_alpha=16, target_modules="all-linear", exclude_modules=r".*mlp.*"),
    ],
    "gpt2": [
        dict(r=8, lora_alpha=32, target_modules=["c_attn"], fan_in_fan_out=True),
        dict(r=4, lora_alpha=8, target_modules="all-linear", fan_in_fan_out=True),
        dict(r=8, lora_alpha=16, target_modules=["c_attn", "c_fc"], layers_to_transform=1, fan_in_fan_out=True),
    ],
}

result = {}
for arch, make in (("llama", tiny_llama), ("gpt2", tiny_gpt2)):
    torch.manual_seed(0)
    base = make()
    entry = {"modules": modules(base), "cases": []}
    for cfg in CONFIGS[arch]:
        model = get_peft_model(make(), LoraConfig(**cfg))
        adapted = []
        for name, m in model.named_modules():
            if hasattr(m, "lora_A") and "default" in m.lora_A:
                path = name.removeprefix("base_model.model.")
                adapted.append({"path": path, "r": m.r["default"], "scaling": m.scaling["default"]})
            if hasattr(m, "lora_embedding_A") and "default" in m.lora_embedding_A:
                path = name.removeprefix("base_model.model.")
                if not any(a["path"] == path for a in adapted):
                    adapted.append({"path": path, "r": m.r["default"], "scaling": m.scaling["default"]})
        entry["cases"].append({"config": cfg, "adapted": adapted})
    result[arch] = entry

with open(out_path, "w") as f:
    json.dump(result, f, indent=1)
print("wrote", out_path)
