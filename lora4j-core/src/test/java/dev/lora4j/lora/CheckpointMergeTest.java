package dev.lora4j.lora;

import static dev.lora4j.lora.AdapterGoldens.adapters;
import static dev.lora4j.lora.AdapterGoldens.model;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.io.safetensors.Checkpoints;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.io.safetensors.WeightSource;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CheckpointMerge}: sharding like the source, stored dtype, and no partial output on failure. */
class CheckpointMergeTest {
    @TempDir
    Path tmp;

    /** The tiny Llama re-written as 3 shards with an index, plus a tokenizer file to copy. */
    private Path shardedLlama() throws Exception {
        Path dir = tmp.resolve("sharded");
        Files.createDirectories(dir);
        Files.copy(model("llama_gqa_f32").resolve("config.json"), dir.resolve("config.json"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"not\": \"parsed by merge\"}");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(model("llama_gqa_f32").resolve("model.safetensors"))) {
            for (String n : f.names()) {
                tensors.put(n, Tensor.of(f.tensor(n).toFloatArray(), f.tensor(n).shape()));
            }
        }
        SafetensorsWriter.writeSharded(dir, "model", tensors, Map.of("format", "pt"), 120_000);
        return dir;
    }

    @Test
    void mergedCheckpointIsShardedLikeTheSourceAndGivesTheAdaptedLoss() throws Exception {
        Path source = shardedLlama();
        Path out = tmp.resolve("out");
        Path adapter = adapters("llama_gqa_f32").resolve("peft_adapter");
        CheckpointMerge.merge(source, adapter, out, w -> {});

        JsonNode srcIndex = new ObjectMapper().readTree(source.resolve("model.safetensors.index.json").toFile());
        JsonNode outIndex = new ObjectMapper().readTree(out.resolve("model.safetensors.index.json").toFile());
        assertThat(srcIndex.get("weight_map").size()).isGreaterThan(10);
        assertThat(outIndex.get("weight_map")).isEqualTo(srcIndex.get("weight_map"));
        assertThat(Files.readString(out.resolve("tokenizer.json"))).isEqualTo(Files.readString(source.resolve("tokenizer.json")));
        assertThat(Files.readString(out.resolve("config.json"))).isEqualTo(Files.readString(source.resolve("config.json")));
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".partial-"));
        }

        double adapted;
        try (CausalLM base = Models.load(source)) {
            PeftAdapterFiles.load(base, adapter, w -> {});
            adapted = AdapterGoldens.loss(base);
        }
        try (CausalLM merged = Models.load(out)) {
            // float32 merged weights vs float32 base + unmerged branch: differ by float rounding only
            assertThat(AdapterGoldens.loss(merged)).isCloseTo(adapted, within(1e-5));
        }
    }

    @Test
    void bf16CheckpointMergesIntoBf16AndUnmergedTensorsAreCopiedBitForBit() throws Exception {
        Path out = tmp.resolve("out");
        // gpt2_bf16 has the same shapes as gpt2_f32, so gpt2_f32's PEFT adapter fits it.
        CheckpointMerge.Result r = CheckpointMerge.merge(model("gpt2_bf16"), adapters("gpt2_f32").resolve("peft_adapter"),
                out, w -> {});
        try (WeightSource src = Checkpoints.open(model("gpt2_bf16")); WeightSource dst = Checkpoints.open(out)) {
            for (String n : dst.names()) {
                assertThat(dst.info(n).dtype()).as(n).isEqualTo(DType.BF16);
            }
            int changed = 0;
            for (String n : src.names()) {
                boolean merged = r.mergedTensors().contains(n);
                boolean same = java.util.Arrays.equals(src.tensor(n).toFloatArray(), dst.tensor(n).toFloatArray());
                assertThat(same).as("%s is %s", n, merged ? "merged" : "copied").isEqualTo(!merged);
                changed += merged ? 1 : 0;
            }
            assertThat(changed).isEqualTo(2 * 4);  // c_attn, attn.c_proj, c_fc, mlp.c_proj in each of 2 layers
            assertThat(dst.names()).contains("lm_head.weight");
        }
        double adapted;
        try (CausalLM base = Models.load(model("gpt2_bf16"))) {
            PeftAdapterFiles.load(base, adapters("gpt2_f32").resolve("peft_adapter"), w -> {});
            adapted = AdapterGoldens.loss(base);
        }
        try (CausalLM merged = Models.load(out)) {
            // BF16 rounding of the merged weights (relative 2^-9 per weight) moves the loss by ~1e-3 at most here.
            assertThat(AdapterGoldens.loss(merged)).isCloseTo(adapted, within(1e-2));
        }
    }

    @Test
    void aFailedMergeLeavesNoOutputAndNoTemporaryDirectory() throws Exception {
        Path source = shardedLlama();
        // A dangling link, as in a Hugging Face cache whose blob was deleted: copying it fails after the shards
        // have been written into the temporary directory.
        Files.createSymbolicLink(source.resolve("tokenizer_config.json"), tmp.resolve("deleted-blob"));
        Path out = tmp.resolve("out");
        assertThatThrownBy(() -> CheckpointMerge.merge(source, adapters("llama_gqa_f32").resolve("peft_adapter"), out, w -> {}))
                .hasMessageContaining(source.resolve("tokenizer_config.json").toString());
        assertThat(out).doesNotExist();
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".partial-"));
        }
    }

    @Test
    void anExistingOutputIsNotOverwritten() throws Exception {
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        assertThatThrownBy(() -> CheckpointMerge.merge(model("llama_gqa_f32"),
                adapters("llama_gqa_f32").resolve("peft_adapter"), out, w -> {}))
                .hasMessageContaining("already exists");
        assertThat(Files.readString(out.resolve("keep.txt"))).isEqualTo("mine");
    }

    @Test
    void aMismatchingAdapterFailsBeforeAnythingIsWritten() throws Exception {
        Path out = tmp.resolve("out");
        assertThatThrownBy(() -> CheckpointMerge.merge(model("llama3_v4config_bf16"),
                adapters("llama_gqa_f32").resolve("peft_adapter"), out, w -> {}))
                .hasMessageContaining("adapter does not fit this base model");
        assertThat(out).doesNotExist();
    }
}
