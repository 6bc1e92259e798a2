package dev.lora4j.lora;

import static dev.lora4j.lora.AdapterGoldens.adapters;
import static dev.lora4j.lora.AdapterGoldens.expected;
import static dev.lora4j.lora.AdapterGoldens.model;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import org.junit.jupiter.api.Test;

/** Several adapters over one base: load under names, activate one, disable all, delete. */
class AdapterSetTest {
    @Test
    void activatingSwitchesOutputsAndDisablingGivesTheBase() throws Exception {
        String name = "llama_gqa_f32";
        JsonNode expected = expected(name);
        try (CausalLM base = Models.load(model(name))) {
            AdapterSet set = new AdapterSet(base);
            set.load("peft", adapters(name).resolve("peft_adapter"), w -> {});
            set.load("mine", adapters(name).resolve("lora4j_adapter"), w -> {});
            assertThat(set.names()).containsExactly("peft", "mine");
            assertThat(set.activeName()).isEqualTo("peft");
            // 2e-5: float32 vs PEFT's float32 (see PeftAdapterGoldenTest)
            assertThat(AdapterGoldens.loss(base)).isCloseTo(expected.get("peft_loss").asDouble(), within(2e-5));

            set.activate("mine");
            assertThat(set.get("peft").attached()).isFalse();
            assertThat(AdapterGoldens.loss(base)).isCloseTo(expected.get("lora4j_adapter_peft_loss").asDouble(), within(2e-5));

            set.disableAll();
            assertThat(set.activeName()).isNull();
            assertThat(base.linears()).allMatch(l -> l.adapter() == null);
            assertThat(AdapterGoldens.loss(base)).isCloseTo(expected.get("base_loss").asDouble(), within(2e-5));

            set.activate("peft");
            set.delete("peft");
            assertThat(set.activeName()).isNull();
            assertThat(base.linears()).allMatch(l -> l.adapter() == null);
            assertThat(set.names()).containsExactly("mine");
            assertThatThrownBy(() -> set.activate("peft")).hasMessageContaining("no adapter named 'peft'")
                    .hasMessageContaining("mine");
            assertThatThrownBy(() -> set.load("mine", adapters(name).resolve("peft_adapter"), w -> {}))
                    .hasMessageContaining("already loaded");
        }
    }

    @Test
    void combinationRefusesWhatPeftRefuses() throws Exception {
        String name = "llama_gqa_f32";
        try (CausalLM base = Models.load(model(name))) {
            AdapterSet set = new AdapterSet(base);
            LoraModel peft = set.load("peft", adapters(name).resolve("peft_adapter"), w -> {});   // r=4
            LoraModel mine = set.load("mine", adapters(name).resolve("lora4j_adapter"), w -> {}); // r=3
            assertThatThrownBy(() -> AdapterCombination.combine(base, java.util.List.of(peft, mine),
                    java.util.List.of(1.0, 1.0), AdapterCombination.Type.LINEAR, null))
                    .hasMessageContaining("equal rank").hasMessageContaining("[4, 3]");
            assertThatThrownBy(() -> AdapterCombination.combine(base, java.util.List.of(peft, mine),
                    java.util.List.of(1.0, 1.0), AdapterCombination.Type.SVD, 65))
                    .hasMessageContaining("svd rank 65 exceeds");
            assertThatThrownBy(() -> AdapterCombination.Type.parse("ties")).hasMessageContaining("linear, cat or svd");
            // cat of different ranks is exact: the combined adapter's outputs equal weighting the two deltas.
            LoraModel cat = AdapterCombination.combine(base, java.util.List.of(peft, mine),
                    java.util.List.of(0.5, 2.0), AdapterCombination.Type.CAT, null);
            assertThat(cat.config().r()).isEqualTo(7);
            for (LoraLinear m : cat.adapters().values()) {
                double[] got = LoraDelta.matrix(m);
                double[] d1 = LoraDelta.matrix(peft.adapters().get(m.modulePath()));
                double[] d2 = LoraDelta.matrix(mine.adapters().get(m.modulePath()));
                for (int i = 0; i < got.length; i++) {
                    // float32 storage of the scaled A rows: relative 1e-6
                    assertThat(got[i]).isCloseTo(0.5 * d1[i] + 2.0 * d2[i], within(1e-6 * (1 + Math.abs(got[i]))));
                }
            }
        }
    }
}
