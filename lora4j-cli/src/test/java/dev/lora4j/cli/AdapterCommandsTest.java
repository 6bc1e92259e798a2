package dev.lora4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** merge, combine, inspect and eval --adapter through the CLI, on lora4j-core's PEFT adapter goldens. */
class AdapterCommandsTest {
    private static final Path GOLDEN = Paths.get("../lora4j-core/src/test/resources/golden");
    private static final Path LLAMA = GOLDEN.resolve("models/llama_gqa_f32");
    private static final Path ADAPTERS = GOLDEN.resolve("peft_adapters/llama_gqa_f32");
    private static final ObjectMapper JSON = new ObjectMapper();

    static EvalCommandTest.Run run(String... args) {
        return EvalCommandTest.run(args);
    }

    /** The golden batch as eval's JSONL. */
    private static Path data(Path tmp) throws Exception {
        Path f = tmp.resolve("data.jsonl");
        Files.writeString(f, """
                {"input_ids": [1, 17, 42, 99, 3, 64, 120, 7, 55, 31]}
                {"input_ids": [1, 5, 88, 23, 101, 9]}
                {"input_ids": [1, 77, 12, 45, 126, 60, 2, 33]}
                {"input_ids": [1, 100, 4]}
                """);
        return f;
    }

    private static double loss(EvalCommandTest.Run r) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        return JSON.readTree(r.out()).get("loss").asDouble();
    }

    @Test
    void evalWithAdapterGivesPeftsLossAndMergedModelGivesTheSame(@TempDir Path tmp) throws Exception {
        JsonNode expected = JSON.readTree(ADAPTERS.resolve("expected.json").toFile());
        Path data = data(tmp);
        double base = loss(run("eval", "--model", LLAMA.toString(), "--data", data.toString()));
        double adapted = loss(run("eval", "--model", LLAMA.toString(), "--data", data.toString(),
                "--adapter", ADAPTERS.resolve("peft_adapter").toString()));
        // 2e-5: float32 against PEFT's float32 (see PeftAdapterGoldenTest)
        assertThat(base).isCloseTo(expected.get("base_loss").asDouble(), within(2e-5));
        assertThat(adapted).isCloseTo(expected.get("peft_loss").asDouble(), within(2e-5));

        Path merged = tmp.resolve("merged");
        EvalCommandTest.Run m = run("merge", "--model", LLAMA.toString(), "--adapter",
                ADAPTERS.resolve("peft_adapter").toString(), "--output", merged.toString());
        assertThat(m.code()).as(m.err()).isZero();
        assertThat(m.out()).contains("merged 14 tensors").contains("model.safetensors");
        assertThat(loss(run("eval", "--model", merged.toString(), "--data", data.toString())))
                .isCloseTo(expected.get("merged_by_lora4j").get("transformers_loss").asDouble(), within(2e-5));

        EvalCommandTest.Run again = run("merge", "--model", LLAMA.toString(), "--adapter",
                ADAPTERS.resolve("peft_adapter").toString(), "--output", merged.toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).startsWith("lora4j merge: error: ").contains("already exists");
    }

    @Test
    void failedMergeReportsOneLineAndLeavesNoOutput(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("merged");
        EvalCommandTest.Run r = run("merge", "--model", GOLDEN.resolve("models/gpt2_f32").toString(), "--adapter",
                ADAPTERS.resolve("peft_adapter").toString(), "--output", out.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("lora4j merge: error: ").contains("matched no module");
        assertThat(out).doesNotExist();
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".partial-"));
        }
    }

    @Test
    void combineWritesAnAdapterThatEvalLoads(@TempDir Path tmp) throws Exception {
        Path data = data(tmp);
        Path out = tmp.resolve("combined");
        EvalCommandTest.Run r = run("combine", "--model", LLAMA.toString(),
                "--adapter", "a=" + ADAPTERS.resolve("peft_adapter") + ":1.0",
                "--adapter", "b=" + ADAPTERS.resolve("peft_adapter_b") + ":0",
                "--type", "cat", "--output", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("r=8").contains("14 modules");
        // Weight 1 for a and 0 for b: cat is exact, so the combined adapter behaves as a alone.
        JsonNode expected = JSON.readTree(ADAPTERS.resolve("expected.json").toFile());
        assertThat(loss(run("eval", "--model", LLAMA.toString(), "--data", data.toString(), "--adapter", out.toString())))
                .isCloseTo(expected.get("peft_loss").asDouble(), within(2e-5));

        EvalCommandTest.Run svd = run("combine", "--model", LLAMA.toString(),
                "--adapter", "a=" + ADAPTERS.resolve("peft_adapter"), "--type", "svd", "--rank", "2",
                "--output", tmp.resolve("svd").toString());
        assertThat(svd.code()).as(svd.err()).isZero();
        EvalCommandTest.Run bad = run("combine", "--model", LLAMA.toString(), "--adapter", "a=" + ADAPTERS.resolve("peft_adapter"),
                "--adapter", "c=" + ADAPTERS.resolve("lora4j_adapter"), "--type", "linear", "--output", tmp.resolve("x").toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("equal rank");
    }

    /**
     * Training with LoRA on the token embeddings: the adapter starts as a no-op (PEFT's embedding init:
     * A = 0), the loss falls, and the written adapter, eval with it and its merge agree.
     */
    @Test
    void trainWithEmbeddingTargetsWritesAnAdapterThatEvalAndMergeAgreeOn(@TempDir Path tmp) throws Exception {
        Path data = data(tmp);
        Path out = tmp.resolve("run");
        EvalCommandTest.Run t = run("train", "--model", LLAMA.toString(), "--data", data.toString(), "--output",
                out.toString(), "--target-modules", "embed_tokens,q_proj", "--rank", "4", "--alpha", "8",
                "--steps", "8", "--lr", "1e-2", "--batch-size", "4", "--eval-split", "0");
        assertThat(t.code()).as(t.err()).isZero();
        JsonNode summary = JSON.readTree(t.out());
        double base = loss(run("eval", "--model", LLAMA.toString(), "--data", data.toString()));
        assertThat(summary.get("train_loss_first").asDouble()).isCloseTo(base, within(2e-5));
        assertThat(summary.get("train_loss_last").asDouble()).isLessThan(base - 0.5);
        assertThat(JSON.readTree(out.resolve("train_args.json").toFile()).get("target_modules").toString())
                .contains("model.embed_tokens").contains("model.layers.1.self_attn.q_proj");
        try (var f = dev.lora4j.io.safetensors.SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
            assertThat(f.names()).contains("base_model.model.model.embed_tokens.lora_embedding_A",
                    "base_model.model.model.embed_tokens.lora_embedding_B");
        }
        double adapted = loss(run("eval", "--model", LLAMA.toString(), "--data", data.toString(), "--adapter",
                out.toString()));
        Path merged = tmp.resolve("merged");
        assertThat(run("merge", "--model", LLAMA.toString(), "--adapter", out.toString(), "--output",
                merged.toString()).code()).isZero();
        // 2e-5: the merged table is rounded once to float32, then the same forward.
        assertThat(loss(run("eval", "--model", merged.toString(), "--data", data.toString())))
                .isCloseTo(adapted, within(2e-5));
    }

    @Test
    void inspectDescribesModelsAndAdapters(@TempDir Path tmp) throws Exception {
        EvalCommandTest.Run m = run("inspect", LLAMA.toString(), "--batch-size", "2", "--seq-len", "16");
        assertThat(m.code()).as(m.err()).isZero();
        JsonNode model = JSON.readTree(m.out());
        assertThat(model.get("kind").asText()).isEqualTo("model");
        assertThat(model.get("architecture").get("model_type").asText()).isEqualTo("llama");
        assertThat(model.get("dtype").asText()).isEqualTo("F32");
        // Parameters of the tiny Llama, counted by hand from config.json: vocab 128, hidden 64, 2 layers,
        // q 64x64, k/v 32x64, o 64x64, gate/up 96x64, down 64x96, two norms of 64 per layer, final norm, head 128x64.
        long perLayer = 64 * 64 + 2 * 32 * 64 + 64 * 64 + 3 * 96 * 64 + 2 * 64;
        long total = 128 * 64 + 2 * perLayer + 64 + 128 * 64;
        assertThat(model.get("parameters").asLong()).isEqualTo(total);
        long byKind = 0;
        for (JsonNode v : model.get("parameters_by_kind")) {
            byKind += v.asLong();
        }
        assertThat(byKind).isEqualTo(total);
        assertThat(model.get("parameters_by_kind").get("mlp").asLong()).isEqualTo(2 * 3 * 96 * 64);
        assertThat(model.get("weight_bytes").asLong()).isEqualTo(4 * total);
        JsonNode est = model.get("training_memory_estimate");
        assertThat(est.get("frozen_weights_mapped").asLong()).isEqualTo(4 * total);
        assertThat(est.get("adapter_params_grads_adamw").asLong()).isEqualTo(16 * est.get("adapter_parameters").asLong());

        EvalCommandTest.Run a = run("inspect", ADAPTERS.resolve("peft_adapter").toString(), "--model", LLAMA.toString());
        assertThat(a.code()).as(a.err()).isZero();
        JsonNode adapter = JSON.readTree(a.out());
        assertThat(adapter.get("kind").asText()).isEqualTo("adapter");
        assertThat(adapter.get("r").asInt()).isEqualTo(4);
        assertThat(adapter.get("use_rslora").asBoolean()).isTrue();
        assertThat(adapter.get("rank_pattern").get("o_proj").asInt()).isEqualTo(2);
        // r=4 on q,k,v,gate,up,down and r=2 on o (rank_pattern), per layer: A [r, in] + B [out, r]
        long lora = 4 * (64 + 64) + 4 * (64 + 32) * 2 + 2 * (64 + 64) + 4 * (64 + 96) * 2 + 4 * (96 + 64);
        assertThat(adapter.get("parameters").asLong()).isEqualTo(2 * lora);
        assertThat(adapter.get("modules_per_layer").get("0").toString()).contains("q_proj (r=4)").contains("o_proj (r=2)");
        assertThat(adapter.get("modules_per_layer").get("1")).hasSize(7);
        assertThat(adapter.get("trainable_share").asDouble()).isCloseTo((double) (2 * lora) / total, within(1e-12));
        JsonNode mem = adapter.get("training_memory_estimate");
        assertThat(mem.get("batch_size").asInt()).isEqualTo(4);
        assertThat(mem.get("total").asLong()).isEqualTo(mem.get("frozen_weights_mapped").asLong()
                + mem.get("activations").asLong() + mem.get("logits_and_head").asLong()
                + mem.get("backward_scratch").asLong() + mem.get("adapter_params_grads_adamw").asLong());

        EvalCommandTest.Run missing = run("inspect", tmp.resolve("none").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("not a directory");
    }
}
