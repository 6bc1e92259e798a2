"""Goldens for lora4j's RoPE and attention kernels, computed with PyTorch and transformers.

RoPE: transformers' LlamaRotaryEmbedding (inv_freq, attention_scaling, cos/sin) and
apply_rotary_pos_emb, including a partial-rotary case (first rotary_dim dims of each head).
Attention: softmax(q·kᵀ·scale + mask)·v in float64 from float32 inputs, with grouped-query heads
expanded like transformers' repeat_kv, a causal mask where query i sits at position tk - tq + i,
and key padding; gradients of sum(out * w) by autograd.

Writes lora4j-core/src/test/resources/golden/kernels.json (tensors in lora4j's row layout
[rows, heads*headDim], flattened). Run: PY=$(/work/shared/tools/python-env); $PY tools/golden/kernels_golden.py
"""
import json
import os
import sys

import torch
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

torch.manual_seed(1234)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "lora4j-core", "src", "test", "resources", "golden", "kernels.json")


def flat(t):
    return [float(x) for x in t.detach().to(torch.float32).reshape(-1).tolist()]


def rope_case(name, n_heads, head_dim, rotary_dim, positions, rope_scaling=None):
    cfg = LlamaConfig(hidden_size=n_heads * head_dim, num_attention_heads=n_heads, head_dim=head_dim,
                      max_position_embeddings=64, rope_theta=10000.0, rope_scaling=rope_scaling)
    emb = LlamaRotaryEmbedding(cfg)
    # restrict to the first rotary_dim dims by building the embedding for rotary_dim
    inv_freq = emb.inv_freq[: rotary_dim // 2] if rotary_dim == head_dim else \
        1.0 / (10000.0 ** (torch.arange(0, rotary_dim, 2, dtype=torch.float32) / rotary_dim))
    pos = torch.tensor([positions])
    freqs = inv_freq[None, :, None].float() @ pos[:, None, :].float()
    freqs = freqs.transpose(1, 2)
    e = torch.cat((freqs, freqs), dim=-1)
    cos = e.cos() * emb.attention_scaling
    sin = e.sin() * emb.attention_scaling
    if rotary_dim == head_dim:
        cos2, sin2 = emb(torch.zeros(1), pos)  # the library's own cos/sin must agree with ours
        assert torch.allclose(cos2, cos) and torch.allclose(sin2, sin)
    rows = len(positions)
    x = torch.randn(1, n_heads, rows, head_dim)
    x_rot, x_pass = x[..., :rotary_dim], x[..., rotary_dim:]
    y_rot, _ = apply_rotary_pos_emb(x_rot, x_rot, cos, sin)
    y = torch.cat((y_rot, x_pass), dim=-1)
    to_rows = lambda t: t[0].transpose(0, 1).reshape(rows, n_heads * head_dim)
    return {"name": name, "nHeads": n_heads, "headDim": head_dim, "rotaryDim": rotary_dim, "positions": positions,
            "invFreq": flat(inv_freq), "attentionScaling": float(emb.attention_scaling),
            "x": flat(to_rows(x)), "y": flat(to_rows(y))}


def attention_case(name, batch, tq, tk, n_heads, n_kv, hd, causal, key_mask):
    q = torch.randn(batch, tq, n_heads, hd)
    k = torch.randn(batch, tk, n_kv, hd)
    v = torch.randn(batch, tk, n_kv, hd)
    w = torch.randn(batch, tq, n_heads, hd)
    q64, k64, v64 = (t.double().requires_grad_() for t in (q, k, v))
    qh = q64.transpose(1, 2)                                  # [B, H, Tq, hd]
    kh = k64.transpose(1, 2).repeat_interleave(n_heads // n_kv, dim=1)
    vh = v64.transpose(1, 2).repeat_interleave(n_heads // n_kv, dim=1)
    scale = 1.0 / hd ** 0.5
    scores = qh @ kh.transpose(-1, -2) * float(torch.tensor(scale, dtype=torch.float32))
    allowed = torch.ones(batch, 1, tq, tk, dtype=torch.bool)
    if causal:
        qpos = torch.arange(tq)[:, None] + (tk - tq)
        allowed = allowed & (torch.arange(tk)[None, :] <= qpos)
    if key_mask is not None:
        allowed = allowed & torch.tensor(key_mask, dtype=torch.bool).reshape(batch, 1, 1, tk)
    p = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
    out = (p @ vh).transpose(1, 2)                            # [B, Tq, H, hd]
    (out * w.double()).sum().backward()
    rows = lambda t, h: t.reshape(-1, h * hd)
    return {"name": name, "batch": batch, "tq": tq, "tk": tk, "nHeads": n_heads, "nKvHeads": n_kv, "headDim": hd,
            "causal": causal, "keyMask": [int(m) for m in key_mask] if key_mask is not None else None,
            "scale": scale,
            "q": flat(rows(q, n_heads)), "k": flat(rows(k, n_kv)), "v": flat(rows(v, n_kv)), "w": flat(rows(w, n_heads)),
            "out": flat(rows(out, n_heads)), "dq": flat(rows(q64.grad, n_heads)), "dk": flat(rows(k64.grad, n_kv)),
            "dv": flat(rows(v64.grad, n_kv))}


def main():
    golden = {
        "generator": "tools/golden/kernels_golden.py, torch " + torch.__version__,
        "rope": [
            rope_case("llama full rotary", 2, 8, 8, [0, 1, 5, 17, 63]),
            rope_case("partial rotary 4 of 12", 2, 12, 4, [3, 9, 40]),
            rope_case("yarn attention scaling", 2, 8, 8, [0, 7, 33],
                      rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16}),
        ],
        "attention": [
            attention_case("causal GQA right padding", 2, 5, 5, 4, 2, 8, True, [1] * 5 + [1, 1, 1, 0, 0]),
            attention_case("bidirectional left padding", 2, 4, 4, 2, 2, 6, False, [0, 1, 1, 1] + [1] * 4),
            attention_case("decode tq<tk causal GQA", 1, 2, 6, 4, 1, 5, True, None),
        ],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(golden, f)
    os.replace(tmp, OUT)
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
