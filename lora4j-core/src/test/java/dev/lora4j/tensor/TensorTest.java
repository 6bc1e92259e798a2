package dev.lora4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void viewsShareStorageAndIndexCorrectly() {
        float[] v = new float[24];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        Tensor t = Tensor.of(v, 2, 3, 4);
        assertThat(t.get(1, 2, 3)).isEqualTo(23f);
        Tensor s = t.slice(2, 1, 3);                  // [2,3,2]
        assertThat(s.shape()).containsExactly(2, 3, 2);
        assertThat(s.get(1, 0, 1)).isEqualTo(12 + 2f);
        assertThat(s.isContiguous()).isFalse();
        Tensor tr = t.transpose(0, 2);                // [4,3,2]
        assertThat(tr.get(3, 1, 0)).isEqualTo(t.get(0, 1, 3));
        Tensor sel = t.select(1, 2);                  // [2,4]
        assertThat(sel.toFloatArray()).containsExactly(8, 9, 10, 11, 20, 21, 22, 23);
        s.set(-1f, 0, 0, 0);
        assertThat(v[1]).isEqualTo(-1f);
        assertThat(t.reshape(6, -1).shape()).containsExactly(6, 4);
        assertThatThrownBy(() -> s.reshape(12)).hasMessageContaining("contiguous");
        assertThatThrownBy(() -> t.get(2, 0, 0)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void convertsBetweenDtypesWithRoundToNearestEven() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor f = Tensor.of(new float[] {1f, 1.00390625f, 1.01171875f, -3.5f, 65504f, 1e-8f}, 6);
            Tensor b = f.copy(arena, DType.BF16);
            // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties to even gives 1.0;
            // 1 + 3*2^-8 is halfway between 1.0078125 and 1.015625: ties to even gives 1.015625.
            assertThat(b.toFloatArray()).containsExactly(1f, 1f, 1.015625f, -3.5f, 65536f, 1.0011717677116394e-08f);
            Tensor h = f.copy(arena, DType.F16);
            assertThat(h.get(4)).isEqualTo(65504f);
            assertThat(h.get(3)).isEqualTo(-3.5f);
            assertThat(Floats.bf16ToFloat(Floats.floatToBf16(Float.NaN))).isNaN();
            assertThat(Floats.bf16ToFloat(Floats.floatToBf16(Float.POSITIVE_INFINITY))).isEqualTo(Float.POSITIVE_INFINITY);
        }
    }

    @Test
    void allocatedTensorsAreZeroedAndAligned() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, DType.F32, 3, 5);
            assertThat(t.toFloatArray()).containsOnly(0f);
            assertThat(t.data().address() % 64).isZero();
        }
    }
}
