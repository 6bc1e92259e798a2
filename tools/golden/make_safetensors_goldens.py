"""Golden files for lora4j's safetensors reader and writer, made with the real Python libraries.

Two modes:

  make   writes small safetensors files with torch + safetensors (and a sharded checkpoint with
         huggingface_hub, as `save_pretrained` does) into lora4j-core/src/test/resources/golden/
         safetensors/, plus expected.json holding every tensor's dtype, shape and values (the stored
         values widened to float32, which JSON carries exactly as decimal doubles).
  check  loads the files lora4j wrote (written_by_lora4j/, produced by SafetensorsGoldenTest with
         -Dlora4j.regenerateGoldens=true) with the Python library and records what it read in
         written_by_lora4j/python_read.json, so the Java test can compare without Python.

Run:  PY=$(/work/shared/tools/python-env); $PY tools/golden/make_safetensors_goldens.py make|check
"""
import json
import os
import sys

import torch
from huggingface_hub import save_torch_state_dict
from safetensors import safe_open
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "lora4j-core", "src", "test", "resources", "golden", "safetensors")


def describe(t):
    return {"dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "values": t.to(torch.float32).flatten().tolist()}


def describe_file(path):
    tensors = load_file(path)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
    return {"metadata": metadata,
            "tensors": {name: describe(t) for name, t in sorted(tensors.items())}}


def make():
    os.makedirs(ROOT, exist_ok=True)
    g = torch.Generator().manual_seed(20240601)
    expected = {}

    f32 = {
        "layer.weight": torch.randn(3, 4, generator=g),
        "layer.bias": torch.randn(4, generator=g),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "cube": torch.randn(2, 3, 2, generator=g),
    }
    save_file(f32, os.path.join(ROOT, "f32.safetensors"), metadata={"format": "pt", "note": "lora4j golden"})

    bf16 = {
        "embed.weight": torch.randn(5, 3, generator=g).to(torch.bfloat16),
        "norm.weight": (1 + 0.1 * torch.randn(3, generator=g)).to(torch.bfloat16),
        # Values that sit exactly halfway between two BF16 numbers round to even in torch.
        "ties": torch.tensor([1.00390625, 1.01171875, -3.0078125, 65504.0, 1e-40]).to(torch.bfloat16),
    }
    save_file(bf16, os.path.join(ROOT, "bf16.safetensors"))

    f16 = {
        "proj.weight": torch.randn(2, 5, generator=g).to(torch.float16),
        "tiny": torch.tensor([6e-8, 1e-5, -65504.0, 0.333]).to(torch.float16),
    }
    save_file(f16, os.path.join(ROOT, "f16.safetensors"), metadata={"format": "pt"})

    # A dtype lora4j does not compute with sits beside the float tensors, as BERT's position_ids do.
    mixed = {
        "weight": torch.randn(2, 2, generator=g),
        "half": torch.randn(3, generator=g).to(torch.float16),
        "position_ids": torch.arange(6, dtype=torch.int64).reshape(1, 6),
    }
    save_file(mixed, os.path.join(ROOT, "mixed_with_i64.safetensors"))

    sharded = {f"model.layers.{i}.mlp.weight": torch.randn(4, 8, generator=g).to(torch.bfloat16)
               for i in range(3)}
    sharded["model.norm.weight"] = torch.ones(8).to(torch.bfloat16)
    shard_dir = os.path.join(ROOT, "sharded")
    os.makedirs(shard_dir, exist_ok=True)
    save_torch_state_dict(sharded, shard_dir, max_shard_size=150, metadata={"format": "pt"})

    for name in ["f32", "bf16", "f16", "mixed_with_i64"]:
        expected[name + ".safetensors"] = describe_file(os.path.join(ROOT, name + ".safetensors"))
    expected["sharded"] = {"shards": sorted(f for f in os.listdir(shard_dir) if f.endswith(".safetensors")),
                           "tensors": {n: describe(t) for n, t in sorted(sharded.items())}}
    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote goldens to", os.path.normpath(ROOT))


def check():
    src = os.path.join(ROOT, "written_by_lora4j")
    result = {"safetensors_version": __import__("safetensors").__version__, "files": {}}
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if name.endswith(".safetensors"):
            result["files"][name] = describe_file(path)
    index_path = os.path.join(src, "sharded", "model.safetensors.index.json")
    with open(index_path) as f:
        index = json.load(f)
    loaded = {}
    for shard in sorted(set(index["weight_map"].values())):
        loaded.update(load_file(os.path.join(src, "sharded", shard)))
    assert sorted(loaded) == sorted(index["weight_map"]), "index and shards disagree"
    result["sharded"] = {"tensors": {n: describe(t) for n, t in sorted(loaded.items())},
                         "total_size": index["metadata"]["total_size"]}
    with open(os.path.join(src, "python_read.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    print("python read", len(result["files"]), "files and", len(loaded), "sharded tensors")


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]]()
