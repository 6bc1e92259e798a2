"""Loads an adapter written by `lora4j train --task classification` (or `lora4j demo`) into PEFT and
prints its class probabilities for a few sentences, to compare with lora4j's.

    PY=$(../shared/tools/python-env)
    $PY tools/golden/check_classifier_adapter_in_peft.py MODEL_DIR ADAPTER_DIR "sentence" ...
    $PY tools/golden/check_classifier_adapter_in_peft.py MODEL_DIR ADAPTER_DIR --tsv dev.tsv   # accuracy

(--tsv: a label<TAB>text file with a header and integer labels, as SST-2's dev.tsv.)

PEFT must load every tensor (no missing LoRA or head weights, no unexpected keys). lora4j's
classifier.json says how the head is fed: "cls" is transformers' BertForSequenceClassification as is;
"mean" (checkpoints without a pooler, e.g. MiniLM) averages the last hidden states over real tokens
and applies the classifier to that, which this script does by hand on PEFT's model.
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoTokenizer, BertForSequenceClassification


def main():
    model_dir, adapter_dir, sentences = sys.argv[1], sys.argv[2], sys.argv[3:]
    truth = None
    if sentences and sentences[0] == "--tsv":
        rows = [line.rstrip("\n").split("\t") for line in open(sentences[1], encoding="utf-8")][1:]
        truth = [int(r[0]) for r in rows]
        sentences = [r[1] for r in rows]
    settings = json.load(open(f"{adapter_dir}/classifier.json"))
    labels = settings["labels"]
    base = BertForSequenceClassification.from_pretrained(
        model_dir, num_labels=len(labels), id2label=dict(enumerate(labels)),
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = PeftModel.from_pretrained(base, adapter_dir).eval()
    # Every tensor of the file must have landed in the model PEFT built (names and shapes).
    from safetensors.torch import load_file
    state = {k: v for k, v in model.state_dict().items()}
    for name, value in load_file(f"{adapter_dir}/adapter_model.safetensors").items():
        key = name.replace("base_model.model.", "base_model.model.", 1)
        candidates = [k for k in state if k == key.replace(".weight", ".default.weight")
                      or k == key.replace(".lora_A.weight", ".lora_A.default.weight")
                      or k == key.replace(".lora_B.weight", ".lora_B.default.weight")
                      or k == key.replace("classifier.", "classifier.modules_to_save.default.")]
        assert candidates, f"{name}: PEFT has no such parameter"
        assert torch.equal(state[candidates[0]], value), f"{name}: PEFT loaded a different value"
    print("PEFT loaded every tensor of", adapter_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    probs = torch.cat([probabilities(model, tok, settings, sentences[i:i + 64]) for i in range(0, len(sentences), 64)])
    if truth is not None:
        correct = sum(int(p.argmax()) == t for p, t in zip(probs, truth))
        print(f"PEFT accuracy {correct / len(truth):.6f} ({correct}/{len(truth)})")
        return
    for s, p in zip(sentences, probs):
        c = int(p.argmax())
        print(f"{labels[c]:8s} {100 * float(p[c]):.4f}%  {s}")


def probabilities(model, tok, settings, sentences):
    enc = tok(sentences, padding=True, truncation=True, max_length=settings["max_length"], return_tensors="pt")
    with torch.no_grad():
        if settings["pooling"] == "mean":
            bert = model.base_model.model.bert
            hidden = bert(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            logits = model.base_model.model.classifier(pooled)
        else:
            logits = model(**enc).logits
    return torch.softmax(logits, -1)


if __name__ == "__main__":
    main()
