"""Goldens for adapters in PEFT's format, both directions, merge and combination (issue 5).

For the tiny Llama (GQA) and GPT-2 checkpoints of tools/golden/make_model_goldens.py, into
lora4j-core/src/test/resources/golden/peft_adapters/<model>/:
  peft_adapter/      an adapter as PEFT saves it (init_lora_weights=False, so A and B are both random and
                     the adapter changes the outputs). Llama: rsLoRA, rank_pattern, alpha_pattern on all
                     seven projections. GPT-2: fan_in_fan_out (Conv1D), rank/alpha patterns, and lm_head,
                     which is tied to the token embeddings. Its adapter_config.json is PEFT's own, with
                     every field PEFT writes.
  peft_adapter_b/    a second PEFT adapter over the same modules (another seed, no rsLoRA, other alpha).
  lora4j_adapter/    an adapter written by lora4j (Lora4jAdapterFixtures, run by this script first).
  combined.safetensors  PEFT's add_weighted_adapter([peft_adapter, peft_adapter_b], [0.7, -0.4]) for
                     linear, cat, svd (rank = max input rank) and svd with svd_rank=2: tensor
                     "<type>.<PEFT name>" for each LoRA A and B.
  expected.json      base_loss; peft_loss and peft_logits_seq0 (PEFT, unmerged, peft_adapter);
                     lora4j_adapter_peft_loss (PEFT's loss with lora4j_adapter; the script asserts PEFT
                     loaded every tensor of it); merged_by_lora4j: the loss transformers computes on the
                     checkpoint `lora4j merge` writes from peft_adapter, with its config's
                     tie_word_embeddings; peft_merge_and_unload_loss (PEFT's own merge, for comparison:
                     on GPT-2 it also changes the tied embeddings).
Loss: token-weighted mean next-token cross-entropy over the 4 sequences (right padding ignored).
Run from the repository root (needs the lora4j CLI, built on first use by ./lora4j):
  PY=$(../shared/tools/python-env) && $PY tools/golden/make_peft_adapter_goldens.py
"""
import glob, json, os, shutil, subprocess, tempfile, warnings
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM
from peft import LoraConfig, PeftModel, get_peft_model
from padded_batch import padded_batch

warnings.filterwarnings("ignore")
GOLDEN = os.path.join("lora4j-core", "src", "test", "resources", "golden")
MODELS = os.path.join(GOLDEN, "models")
OUT = os.path.join(GOLDEN, "peft_adapters")

SEQUENCES = [
    [1, 17, 42, 99, 3, 64, 120, 7, 55, 31],
    [1, 5, 88, 23, 101, 9],
    [1, 77, 12, 45, 126, 60, 2, 33],
    [1, 100, 4],
]
LLAMA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
CASES = {
    "llama_gqa_f32": dict(r=4, lora_alpha=8, target_modules=LLAMA_TARGETS, use_rslora=True,
                          rank_pattern={"o_proj": 2}, alpha_pattern={"down_proj": 3}, init_lora_weights=False,
                          task_type="CAUSAL_LM"),
    "gpt2_f32": dict(r=4, lora_alpha=16, target_modules=["c_attn", "c_proj", "c_fc", "lm_head"], fan_in_fan_out=True,
                     rank_pattern={"c_fc": 2}, alpha_pattern={"lm_head": 5}, init_lora_weights=False,
                     task_type="CAUSAL_LM"),
    # LoRA on the token embeddings (PEFT's lora_embedding_A/B) beside one linear target. "model" names the
    # base checkpoint; these cases skip the combination goldens (lora4j does not combine embedding adapters).
    "llama_gqa_f32_embedding": dict(model="llama_gqa_f32", combine=False, r=4, lora_alpha=8,
                                    target_modules=["embed_tokens", "q_proj"], init_lora_weights=False,
                                    task_type="CAUSAL_LM"),
    "gpt2_f32_embedding": dict(model="gpt2_f32", combine=False, r=4, lora_alpha=8, target_modules=["wte", "c_attn"],
                               fan_in_fan_out=True, init_lora_weights=False, task_type="CAUSAL_LM"),
}
# init_lora_weights=False draws lora_embedding_A and B from N(0, 1): a change of the embeddings ~100x their
# own size. A is scaled down to keep the model in a realistic regime (Lora4jAdapterFixtures does the same).
EMBEDDING_A_SCALE = 0.05
COMBINE_WEIGHTS = [0.7, -0.4]
COMBINATIONS = {"linear": dict(combination_type="linear"), "cat": dict(combination_type="cat"),
                "svd": dict(combination_type="svd"), "svd2": dict(combination_type="svd", svd_rank=2)}


def batch():
    return padded_batch(SEQUENCES)


@torch.no_grad()
def loss_and_logits(model):
    ids, mask, labels = batch()
    logits = model(input_ids=ids, attention_mask=mask).logits
    shift_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1])
    shift_labels = labels[:, 1:].reshape(-1)
    total = F.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction="sum")
    return (total / (shift_labels != -100).sum()).item(), logits


def base_model(name):
    return AutoModelForCausalLM.from_pretrained(os.path.join(MODELS, name), dtype=torch.float32)


def save_adapter(model, adapter, target):
    tmp = tempfile.mkdtemp()
    model.save_pretrained(tmp, selected_adapters=[adapter], save_embedding_layers=False)
    src = tmp if adapter == "default" else os.path.join(tmp, adapter)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(src, target, ignore=shutil.ignore_patterns("README.md"))
    shutil.rmtree(tmp)


def run_java_fixture_writer():
    """Builds lora4j and writes the lora4j_adapter directories (Lora4jAdapterFixtures)."""
    subprocess.run(["./lora4j", "--version"], check=True, stdout=subprocess.DEVNULL)  # builds the CLI jar + libs
    env = dict(os.environ, MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow")
    subprocess.run("bash -c '. tools/find-jdk25.sh && lora4j_find_jdk25 && mvn -q -B -o -pl lora4j-core test-compile'",
                   shell=True, check=True, env=env)
    cp = ":".join(["lora4j-core/target/classes", "lora4j-core/target/test-classes"]
                  + glob.glob("lora4j-cli/target/lib/jackson-*.jar"))
    subprocess.run(f"bash -c '. tools/find-jdk25.sh && lora4j_find_jdk25 && \"$JAVA_HOME/bin/java\" "
                   f"--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp {cp} "
                   f"dev.lora4j.lora.Lora4jAdapterFixtures {GOLDEN}'", shell=True, check=True)


run_java_fixture_writer()
def scale_embedding_a(model):
    with torch.no_grad():
        for key, p in model.named_parameters():
            if "lora_embedding_A" in key:
                p.mul_(EMBEDDING_A_SCALE)
    return model


for index, (name, cfg) in enumerate(CASES.items()):
    cfg = dict(cfg)
    model_name = cfg.pop("model", name)
    combine = cfg.pop("combine", True)
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    expected = {}

    base = base_model(model_name)
    expected["base_loss"], _ = loss_and_logits(base)

    # PEFT -> lora4j: a PEFT adapter, and PEFT's outputs with it.
    torch.manual_seed(1000 + index)
    model = scale_embedding_a(get_peft_model(base, LoraConfig(**cfg)))
    save_adapter(model, "default", os.path.join(out, "peft_adapter"))
    expected["peft_loss"], logits = loss_and_logits(model)
    expected["peft_logits_seq0"] = logits[0, :len(SEQUENCES[0])].flatten().tolist()

    if combine:
        # A second adapter and PEFT's weighted combinations of the two.
        torch.manual_seed(2000 + index)
        cfg_b = dict(cfg, use_rslora=False, lora_alpha=cfg["lora_alpha"] * 2)
        model.add_adapter("b", LoraConfig(**cfg_b))
        save_adapter(model, "b", os.path.join(out, "peft_adapter_b"))
        combined = {}
        for label, kwargs in COMBINATIONS.items():
            model.add_weighted_adapter(["default", "b"], COMBINE_WEIGHTS, label, **kwargs)
            for key, value in model.state_dict().items():
                if f".{label}." in key and ".lora_" in key:
                    combined[label + "." + key.replace(f".{label}.", ".")] = value.contiguous().clone()
        save_file(combined, os.path.join(out, "combined.safetensors"), metadata={"format": "pt"})
        expected["combine_weights"] = COMBINE_WEIGHTS

    # lora4j -> PEFT: PEFT loads the adapter lora4j wrote and records its loss.
    lora4j_dir = os.path.join(out, "lora4j_adapter")
    peft_loaded = PeftModel.from_pretrained(base_model(model_name), lora4j_dir)
    written = load_file(os.path.join(lora4j_dir, "adapter_model.safetensors"))
    state = {k.replace(".default", ""): v for k, v in peft_loaded.state_dict().items() if ".lora_" in k}
    assert set(written) == set(state), (set(written) ^ set(state))
    for k, v in written.items():
        assert torch.equal(v, state[k]), k
    expected["lora4j_adapter_peft_loss"], _ = loss_and_logits(peft_loaded)

    # lora4j merge -> transformers.
    with tempfile.TemporaryDirectory() as tmp:
        merged_dir = os.path.join(tmp, "merged")
        subprocess.run(["./lora4j", "merge", "--model", os.path.join(MODELS, model_name), "--adapter",
                        os.path.join(out, "peft_adapter"), "--output", merged_dir], check=True, stdout=subprocess.DEVNULL)
        merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32)
        with open(os.path.join(merged_dir, "config.json")) as f:
            tie = json.load(f).get("tie_word_embeddings")
        loss, _ = loss_and_logits(merged)
        expected["merged_by_lora4j"] = {"transformers_loss": loss, "tie_word_embeddings": tie,
                                        "files": sorted(os.listdir(merged_dir))}

    # PEFT's own merge, for comparison.
    torch.manual_seed(1000 + index)
    again = scale_embedding_a(get_peft_model(base_model(model_name), LoraConfig(**cfg)))
    expected["peft_merge_and_unload_loss"], _ = loss_and_logits(again.merge_and_unload())

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(name, {k: v for k, v in expected.items() if k.endswith("loss") or k == "merged_by_lora4j"})
