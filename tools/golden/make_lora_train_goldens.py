"""Goldens for LoRA training: gradients of every LoRA A/B and 20 AdamW steps, from PEFT + PyTorch.

For the tiny Llama (GQA) and GPT-2 checkpoints of tools/golden/make_model_goldens.py:
  initial_adapter/   a PEFT adapter as PEFT saves it (init_lora_weights=False, so B is not zero and
                     every gradient is non-trivial); lora4j loads it, which also checks PEFT -> lora4j.
                     The *_embedding cases adapt the token embeddings too (PEFT's default
                     save_embedding_layers="auto" then also saves the base embedding table, which
                     lora4j ignores with a warning).
  train.jsonl        4 sequences of different lengths ({"input_ids": [...]}).
  expected.json      config_overrides (config.json fields changed for the case, e.g. pad_token_id),
                     the gradient of the loss w.r.t. every LoRA tensor at the initial adapter, and the
                     loss before each of 20 AdamW steps.
Loss: the sum of next-token cross-entropies over every predicted token of the batch (right padding
ignored) divided by their number, i.e. the token-weighted mean lora4j's trainer uses.
Optimizer: torch.optim.AdamW(lr=1e-3) with its defaults (weight decay 0.01), gradient norm clipped
to 1.0, constant learning rate, all 4 sequences in every step.
Run: PY=$(../shared/tools/python-env) && $PY tools/golden/make_lora_train_goldens.py
"""
import json, os, shutil, warnings
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file
from padded_batch import padded_batch

warnings.filterwarnings("ignore")
MODELS = os.path.join("lora4j-core", "src", "test", "resources", "golden", "models")
OUT = os.path.join("lora4j-core", "src", "test", "resources", "golden", "lora_train")

SEQUENCES = [
    [1, 17, 42, 99, 3, 64, 120, 7, 55, 31],
    [1, 5, 88, 23, 101, 9],
    [1, 77, 12, 45, 126, 60, 2, 33],
    [1, 100, 4],
]

CASES = {
    "llama_gqa_f32": dict(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                              "up_proj", "down_proj"],
                          use_rslora=True, rank_pattern={"o_proj": 2}, alpha_pattern={"down_proj": 3},
                          init_lora_weights=False),
    "gpt2_f32": dict(r=4, lora_alpha=16, target_modules=["c_attn", "c_proj", "c_fc"], fan_in_fan_out=True,
                     init_lora_weights=False),
    # LoRA on the token embeddings (lora_embedding_A/B, scatter-add backward) beside one linear target;
    # "model" names the base checkpoint. Every sequence starts with token 1, so its column of A sums the
    # gradients of several positions.
    "llama_gqa_f32_embedding": dict(model="llama_gqa_f32", r=4, lora_alpha=8, target_modules=["embed_tokens", "q_proj"],
                                    init_lora_weights=False),
    "gpt2_f32_embedding": dict(model="gpt2_f32", r=4, lora_alpha=8, target_modules=["wte", "c_attn"],
                               fan_in_fan_out=True, init_lora_weights=False),
    # pad_token_id 17 makes it the embedding's padding_idx: token 17 of the first sequence still looks up its
    # row, but column 17 of lora_embedding_A gets no gradient (PEFT looks A up with the base's padding_idx).
    "llama_gqa_f32_embedding_pad": dict(model="llama_gqa_f32", config_overrides={"pad_token_id": 17}, r=4,
                                        lora_alpha=8, target_modules=["embed_tokens"], init_lora_weights=False),
}
# init_lora_weights=False draws lora_embedding_A and B from N(0, 1), a change ~100x the embeddings' own
# size; A is scaled down to keep the model in a realistic regime.
EMBEDDING_A_SCALE = 0.05


def batch():
    return padded_batch(SEQUENCES)


def mean_loss(model, ids, mask, labels):
    logits = model(input_ids=ids, attention_mask=mask).logits
    shift_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1])
    shift_labels = labels[:, 1:].reshape(-1)
    total = F.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction="sum")
    return total / (shift_labels != -100).sum()


for name, cfg in CASES.items():
    cfg = dict(cfg)
    model_name = cfg.pop("model", name)
    overrides = cfg.pop("config_overrides", {})
    torch.manual_seed(123)
    base = AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, model_name), dtype=torch.float32, **overrides)
    stored = load_file(os.path.join(MODELS, model_name, "model.safetensors"))
    assert all(torch.equal(v, base.state_dict()[k]) for k, v in stored.items() if k in base.state_dict()), \
        "the overrides must not change the loaded weights"
    model = get_peft_model(base, LoraConfig(**cfg))
    with torch.no_grad():
        for key, p in model.named_parameters():
            if "lora_embedding_A" in key:
                p.mul_(EMBEDDING_A_SCALE)
    out = os.path.join(OUT, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    model.save_pretrained(os.path.join(out, "initial_adapter"))
    os.remove(os.path.join(out, "initial_adapter", "README.md"))  # PEFT's model card, not needed
    with open(os.path.join(out, "train.jsonl"), "w") as f:
        for s in SEQUENCES:
            f.write(json.dumps({"input_ids": s}) + "\n")
    ids, mask, labels = batch()
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}

    loss = mean_loss(model, ids, mask, labels)
    loss.backward()
    grads = {n.replace(".default", ""): p.grad.flatten().tolist() for n, p in params.items()}
    model.zero_grad()

    opt = torch.optim.AdamW(params.values(), lr=1e-3)
    losses = []
    for step in range(20):
        loss = mean_loss(model, ids, mask, labels)
        losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()
        opt.zero_grad()
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"base_model": model_name, "config_overrides": overrides, "initial_loss": losses[0], "grads": grads, "losses": losses}, f)
    print(name, "loss", losses[0], "->", losses[-1], "params", len(params))
