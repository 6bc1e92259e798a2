#!/usr/bin/env python3
"""Tiny random BERT and RoBERTa sequence classifiers, their outputs and gradients, made with
transformers and PEFT, for lora4j's encoder tests.

Run from the repository root:  $(/work/shared/tools/python-env) tools/golden/make_bert_goldens.py

For each model it writes lora4j-core/src/test/resources/golden/models/<name>/:
  config.json, model.safetensors   BertForSequenceClassification / RobertaForSequenceClassification
                                   (3 labels) as save_pretrained writes them (weights under bert. /
                                   roberta., head under classifier.).
  adapter/                         a PEFT LoRA adapter (r=4, alpha=8, query+value, SEQ_CLS task, so the
                                   classifier is in modules_to_save) with random A *and* B
                                   (init_lora_weights=False), so every LoRA gradient is non-zero.
  expected.json                    inputs (3 sequences of 9 tokens: full with two segments, right-padded,
                                   shorter right-padded), the last hidden states at every real token and
                                   the logits of the plain model; then, for the model with the adapter,
                                   the mean cross-entropy loss for fixed labels and its gradients with
                                   respect to the summed input embeddings (word + position + type, every
                                   row), every LoRA A/B and the classification head's parameters.

Weights are random but not the tiny transformers init: LayerNorm weights 1 + N(0, 0.2), biases
N(0, 0.1), matrices and embeddings N(0, 0.15), so a layer that forgets a norm weight, a bias or a
position/type embedding fails the test and outputs have magnitude ~1 (absolute tolerances apply).
Everything runs in float32 in eval mode (no dropout).
"""
import json
import os

import torch
from peft import LoraConfig, get_peft_model
from transformers import BertConfig, BertForSequenceClassification, RobertaConfig, RobertaForSequenceClassification

OUT = os.path.join("lora4j-core", "src", "test", "resources", "golden", "models")
LABELS = [0, 2, 1]


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def rounded(t):
    return [round(float(v), 7) for v in t.reshape(-1).tolist()]


def make(name, model_cls, config, input_ids, attention_mask, token_type_ids, position_ids, seed):
    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(seed)
    model = model_cls(config).eval()
    randomize(model, seed)
    model.save_pretrained(directory, safe_serialization=True)

    ids = torch.tensor(input_ids)
    mask = torch.tensor(attention_mask)
    types = torch.tensor(token_type_ids)
    pos = torch.tensor(position_ids) if position_ids is not None else None
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, position_ids=pos,
                    output_hidden_states=True)
    last = out.hidden_states[-1]
    batch, seq = ids.shape
    hidden = [{"batch": b, "position": t, "values": rounded(last[b, t])}
              for b in range(batch) for t in range(seq) if attention_mask[b][t] == 1]

    # The LoRA model: random A and B, classifier in modules_to_save (PEFT's default for SEQ_CLS).
    torch.manual_seed(seed + 1)
    lora = LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["query", "value"],
                      init_lora_weights=False, lora_dropout=0.0)
    peft_model = get_peft_model(model, lora).eval()
    peft_model.save_pretrained(os.path.join(directory, "adapter"))
    base = peft_model.base_model.model
    encoder = getattr(base, config.model_type)
    # Word embeddings fed as inputs_embeds: d loss / d inputs_embeds is the gradient with respect
    # to the summed embeddings (word + position + type), which is what lora4j reports.
    embeds = encoder.embeddings.word_embeddings(ids).detach().requires_grad_(True)
    if pos is None:
        pos = torch.arange(seq).unsqueeze(0).expand(batch, seq)
    result = peft_model(inputs_embeds=embeds, attention_mask=mask, token_type_ids=types, position_ids=pos,
                        labels=torch.tensor(LABELS))
    result.loss.backward()
    grads = {}
    for pname, p in peft_model.named_parameters():
        if p.requires_grad and p.grad is not None:
            key = pname.replace("base_model.model.", "").replace(".modules_to_save.default", "").replace(".default", "")
            grads[key] = {"shape": list(p.shape), "values": rounded(p.grad)}

    expected = {
        "input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
        "position_ids": pos.tolist(), "labels": LABELS,
        "hidden": hidden, "logits": [rounded(r) for r in out.logits],
        "loss": float(result.loss), "embedding_grad": rounded(embeds.grad), "grads": grads,
    }
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump(expected, f)
    print(name, "loss", float(result.loss), "grads", sorted(grads))


def main():
    common = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                  hidden_act="gelu", num_labels=3, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    # BERT: pad id 0; row 0 is a sentence pair (token types 0 then 1).
    bert = BertConfig(vocab_size=100, max_position_embeddings=24, type_vocab_size=2, layer_norm_eps=1e-12,
                      pad_token_id=0, **common)
    make("bert_cls_f32", BertForSequenceClassification, bert,
         input_ids=[[2, 17, 42, 99, 3, 64, 12, 7, 3], [2, 5, 88, 23, 3, 0, 0, 0, 0], [2, 11, 3, 0, 0, 0, 0, 0, 0]],
         attention_mask=[[1] * 9, [1] * 5 + [0] * 4, [1] * 3 + [0] * 6],
         token_type_ids=[[0, 0, 0, 0, 0, 1, 1, 1, 1], [0] * 9, [0] * 9],
         position_ids=None, seed=7)
    # RoBERTa: pad id 1, positions counted from padding_idx + 1 = 2; type_vocab_size 1 as in roberta-base.
    roberta = RobertaConfig(vocab_size=100, max_position_embeddings=24, type_vocab_size=1, layer_norm_eps=1e-5,
                            pad_token_id=1, bos_token_id=0, eos_token_id=2, **common)
    ids = [[0, 17, 42, 99, 2, 2, 64, 12, 2], [0, 5, 88, 23, 2, 1, 1, 1, 1], [0, 11, 2, 1, 1, 1, 1, 1, 1]]
    mask = [[1 if i != 1 else 0 for i in row] for row in ids]
    positions = [[(sum(1 for x in row[:t + 1] if x != 1) + 1) if row[t] != 1 else 1 for t in range(len(row))]
                 for row in ids]
    make("roberta_cls_f32", RobertaForSequenceClassification, roberta,
         input_ids=ids, attention_mask=mask, token_type_ids=[[0] * 9] * 3, position_ids=positions, seed=11)


if __name__ == "__main__":
    main()
