package dev.lora4j.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraConfigTest {
    static final List<ModuleInfo> LLAMA = List.of(
            new ModuleInfo("model.embed_tokens", ModuleInfo.Kind.EMBEDDING, false),
            ModuleInfo.linear("model.layers.0.self_attn.q_proj"),
            ModuleInfo.linear("model.layers.0.self_attn.v_proj"),
            ModuleInfo.linear("model.layers.0.mlp.up_proj"),
            new ModuleInfo("model.layers.0.input_layernorm", ModuleInfo.Kind.OTHER, false),
            new ModuleInfo("lm_head", ModuleInfo.Kind.LINEAR, true));

    @Test
    void misspeltTargetIsAnErrorListingTheModuleNames() {
        LoraConfig c = LoraConfig.of(8, 16, new ModuleSelector.Names(List.of("q_proj", "v_prj")));
        assertThatThrownBy(() -> TargetResolver.resolve(c, LLAMA))
                .hasMessageContaining("[v_prj]")
                .hasMessageContaining("q_proj, v_proj, up_proj");
    }

    @Test
    void allLinearLeavesOutTheHeadAndEmbeddings() {
        LoraConfig c = LoraConfig.of(8, 16, ModuleSelector.parseCli("all-linear"));
        assertThat(TargetResolver.resolve(c, LLAMA)).extracting(t -> t.module().path())
                .containsExactly("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                        "model.layers.0.mlp.up_proj");
    }

    @Test
    void scalingIsAlphaOverRankOrOverRootRankWithRslora() {
        LoraConfig c = LoraConfig.of(16, 32, ModuleSelector.parseCli("q_proj"));
        assertThat(c.scalingFor("model.layers.0.self_attn.q_proj")).isEqualTo(2.0);
        assertThat(c.withRslora(true).scalingFor("x.q_proj")).isEqualTo(8.0);
        LoraConfig p = c.withPatterns(Map.of("q_proj", 4), Map.of("layers\\.0\\..*", 8.0));
        assertThat(p.rankFor("model.layers.0.self_attn.q_proj")).isEqualTo(4);
        assertThat(p.scalingFor("model.layers.0.self_attn.q_proj")).isEqualTo(2.0);
        assertThat(p.scalingFor("model.layers.1.self_attn.q_proj")).isEqualTo(8.0);
    }

    @Test
    void configRoundTripsThroughAdapterConfigJson(@TempDir Path dir) throws Exception {
        LoraConfig c = LoraConfig.of(8, 16, ModuleSelector.parseCli("v_proj,q_proj"))
                .withDropout(0.05).withRslora(true)
                .withPatterns(Map.of("q_proj", 4), Map.of("v_proj", 2.0))
                .withModulesToSave(List.of("score"))
                .withInit(InitLoraWeights.GAUSSIAN)
                .withTask("CAUSAL_LM", "base", false);
        Path f = dir.resolve(AdapterConfigJson.FILE_NAME);
        AdapterConfigJson.write(c, f);
        List<String> warnings = new ArrayList<>();
        LoraConfig back = AdapterConfigJson.read(f, warnings::add);
        assertThat(warnings).isEmpty();
        assertThat(back.targetModules()).isEqualTo(new ModuleSelector.Names(List.of("q_proj", "v_proj")));
        assertThat(back).usingRecursiveComparison().ignoringFields("targetModules").isEqualTo(c);
        assertThat(Files.list(dir)).containsExactly(f);
    }

    @Test
    void unknownFieldsWarnAndUnsupportedMathIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve(AdapterConfigJson.FILE_NAME);
        Files.writeString(f, "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,\"target_modules\":[\"q_proj\"],\"shiny_new_field\":1}");
        List<String> warnings = new ArrayList<>();
        assertThat(AdapterConfigJson.read(f, warnings::add).r()).isEqualTo(4);
        assertThat(warnings).singleElement().asString().contains("shiny_new_field");

        Files.writeString(f, "{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":[\"q_proj\"],\"use_dora\":true}");
        assertThatThrownBy(() -> AdapterConfigJson.read(f, w -> {}))
                .hasMessageContaining(f.toString()).hasMessageContaining("DoRA");
        Files.writeString(f, "{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":[\"q_proj\"],\"init_lora_weights\":\"pissa\"}");
        assertThatThrownBy(() -> AdapterConfigJson.read(f, w -> {})).hasMessageContaining("pissa");
        Files.writeString(f, "{\"peft_type\":\"LORA\",\"r\":4,");
        assertThatThrownBy(() -> AdapterConfigJson.read(f, w -> {}))
                .hasMessageContaining(f.toString()).hasMessageContaining("malformed JSON");
        assertThatThrownBy(() -> AdapterConfigJson.read(dir.resolve("nope.json"), w -> {}))
                .hasMessageContaining("nope.json").hasMessageContaining("not found");
    }
}
