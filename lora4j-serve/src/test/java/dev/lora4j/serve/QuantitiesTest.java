package dev.lora4j.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class QuantitiesTest {
    @Test
    void sizesAndDurationsAsTheFlagsTakeThem() {
        assertThat(Quantities.bytes("65536")).isEqualTo(65536);
        assertThat(Quantities.bytes("256MiB")).isEqualTo(256L << 20);
        assertThat(Quantities.bytes("1g")).isEqualTo(1L << 30);
        assertThat(Quantities.bytes("512 KB")).isEqualTo(512L << 10);
        assertThatThrownBy(() -> Quantities.bytes("lots")).hasMessageContaining("not a size: \"lots\"");
        assertThatThrownBy(() -> Quantities.bytes("-1")).hasMessageContaining("not a size");
        assertThat(Quantities.duration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Quantities.duration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Quantities.duration("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThatThrownBy(() -> Quantities.duration("30")).hasMessageContaining("not a duration: \"30\"");
    }
}
