package dev.lora4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BuffersTest {
    @Test
    void rolesShareBuffersAcrossLayersButNotAcrossPositionsInABlock() {
        assertThat(Buffers.roleOf("model.layers.12.input_layernorm")).isEqualTo("model.layers.*.input_layernorm");
        assertThat(Buffers.roleOf("transformer.h.3.ln_2")).isEqualTo("transformer.h.*.ln_2");
        assertThat(Buffers.roleOf("model.norm")).isEqualTo("model.norm");
        assertThat(Buffers.gradient("r", 2, 3)).isSameAs(Buffers.gradient("r", 2, 3));
        assertThat(Buffers.gradient("r", 2, 3)).isNotSameAs(Buffers.gradient("s", 2, 3));
        assertThat(Buffers.gradient("r", 4, 3).shape()).containsExactly(4, 3);
    }
}
