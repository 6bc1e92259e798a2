"""The PyTorch + PEFT side of the LoRA training-step benchmark (see docs/benchmarks.md).

Usage: peft_train_step.py MODEL_DIR [--threads 2] [--warmup 3] [--reps 10] [--bf16-base]
Loads the checkpoint written by make_bench_model.py, attaches LoRA (r=8, alpha=16, q_proj and v_proj,
no dropout), and times full steps: forward, the mean next-token cross-entropy, backward, AdamW.step,
zero_grad. With --bf16-base the frozen base is loaded in bfloat16 (torch_dtype=torch.bfloat16) while
the LoRA A/B weights, their gradients and the AdamW state stay float32 (PEFT's autocast_adapter_dtype
default): the common PEFT setup for a bf16 base. PyTorch then runs the base matmuls in bf16.
Prints one JSON line: median/min step seconds, the per-step times, and the process's peak RSS
(VmHWM from /proc/self/status, in MiB).
"""
import argparse
import json
import os
import time

import torch


def vm_hwm_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--bf16-base", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    dtype = torch.bfloat16 if args.bf16_base else torch.float32
    model = LlamaForCausalLM.from_pretrained(args.model, torch_dtype=dtype, attn_implementation="eager")
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"])
    model = get_peft_model(model, config)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    assert all(p.dtype == torch.float32 for p in params), "LoRA weights should be float32"
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)

    with open(os.path.join(args.model, "tokens.json")) as f:
        tok = json.load(f)
    ids = torch.tensor(tok["input_ids"], dtype=torch.long).view(tok["batch"], tok["seq_len"])

    def step():
        out = model(input_ids=ids, labels=ids)   # transformers shifts labels: mean over B*(T-1) tokens
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return out.loss.item()

    times = []
    loss = None
    for i in range(args.warmup + args.reps):
        t0 = time.perf_counter()
        loss = step()
        t = time.perf_counter() - t0
        if i >= args.warmup:
            times.append(t)
    s = sorted(times)
    print(json.dumps({
        "side": "peft", "bf16_base": args.bf16_base, "threads": torch.get_num_threads(),
        "median_s": s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2,
        "min_s": s[0], "times_s": [round(t, 4) for t in times], "last_loss": loss,
        "peak_rss_mib": vm_hwm_mib(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
