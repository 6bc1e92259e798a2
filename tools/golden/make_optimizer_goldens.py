"""Goldens for AdamW, learning-rate schedules and gradient clipping, from PyTorch and transformers.

Two parameters start from fixed random values; each of 12 steps sets a fixed random gradient,
clips the global norm to 1.0, and steps torch.optim.AdamW(weight_decay=0.05) under a linear
schedule with 3 warmup steps. Records the parameters after every step and the schedule values.
Run: PY=$(../shared/tools/python-env) && $PY tools/golden/make_optimizer_goldens.py
"""
import json, sys
import torch
from transformers import get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup, get_constant_schedule_with_warmup

out_path = sys.argv[1] if len(sys.argv) > 1 else "lora4j-core/src/test/resources/golden/train/adamw.json"
g = torch.Generator().manual_seed(1234)
shapes = [(4, 5), (7,)]
params = [torch.nn.Parameter(torch.randn(*s, generator=g)) for s in shapes]
init = [p.detach().clone().flatten().tolist() for p in params]
opt = torch.optim.AdamW(params, lr=0.05, weight_decay=0.05)
sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=3, num_training_steps=12)
steps = []
for step in range(12):
    grads = [torch.randn(*s, generator=g) * (3.0 if step % 4 == 0 else 0.3) for s in shapes]
    for p, gr in zip(params, grads):
        p.grad = gr.clone()
    norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
    lr = opt.param_groups[0]["lr"]
    opt.step()
    sched.step()
    steps.append({"grads": [gr.flatten().tolist() for gr in grads], "lr": lr, "norm": float(norm),
                  "params": [p.detach().flatten().tolist() for p in params]})

def lrs(factory, **kw):
    o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    s = factory(o, **kw)
    out = []
    for _ in range(kw.get("num_training_steps", 12) + 2):
        out.append(o.param_groups[0]["lr"])
        o.step(); s.step()
    return out

result = {"shapes": shapes, "init": init, "lr": 0.05, "weight_decay": 0.05, "warmup": 3, "total": 12, "max_norm": 1.0,
          "steps": steps,
          "schedules": {"linear": lrs(get_linear_schedule_with_warmup, num_warmup_steps=3, num_training_steps=10),
                        "cosine": lrs(get_cosine_schedule_with_warmup, num_warmup_steps=3, num_training_steps=10),
                        "constant": lrs(get_constant_schedule_with_warmup, num_warmup_steps=3)}}
with open(out_path, "w") as f:
    json.dump(result, f)
print("wrote", out_path)
