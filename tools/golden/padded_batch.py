"""The right-padded batch the LoRA golden scripts feed to PEFT (shared by make_lora_train_goldens.py and
make_peft_adapter_goldens.py)."""
import torch


def padded_batch(sequences):
    """ids and attention mask [len(sequences), longest], padding with id 0 and mask 0; labels = ids with
    -100 on the padding (transformers shifts them inside the loss)."""
    t = max(len(s) for s in sequences)
    ids = torch.zeros(len(sequences), t, dtype=torch.long)
    mask = torch.zeros(len(sequences), t, dtype=torch.long)
    for i, s in enumerate(sequences):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    labels = ids.clone()
    labels[mask == 0] = -100
    return ids, mask, labels
