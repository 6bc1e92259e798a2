package dev.lora4j.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.lora4j.nn.Linear;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Floats;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Merge and unmerge of one layer, and the single rounding into BF16/F16. */
class LoraMergeTest {

    /** The nearest BF16 to v, ties to even, found by comparing the two neighbours in exact double arithmetic. */
    static short nearestBf16(double v) {
        short lo = (short) (Float.floatToRawIntBits((float) v) >>> 16);  // truncation toward zero of a nearby float
        // Search a small window of candidates around the truncation; pick the nearest, ties to even mantissa.
        short best = lo;
        double bestDist = Double.POSITIVE_INFINITY;
        for (int d = -2; d <= 2; d++) {
            short c = (short) (lo + d);
            double dist = Math.abs(Floats.bf16ToFloat(c) - v);
            if (dist < bestDist || (dist == bestDist && (c & 1) == 0)) {
                best = c;
                bestDist = dist;
            }
        }
        return best;
    }

    @Test
    void roundingToBf16IsSingleEvenWhereFloatRoundingWouldHitATie() {
        // 1 + 2^-8 is halfway between the BF16 values 1 and 1 + 2^-7; a hair above must round up.
        double v = 1 + 0x1p-8 + 0x1p-30;
        assertThat((double) (float) v).isEqualTo(1 + 0x1p-8);  // a float cannot hold the hair: double rounding
        assertThat(Floats.floatToBf16((float) v)).as("double rounding goes down to the even 1.0").isEqualTo((short) 0x3F80);
        Tensor t = Tensor.allocate(Arena.global(), DType.BF16, 1);
        SingleRounding.store(t.data(), DType.BF16, 0, v);
        assertThat(t.get(0)).isEqualTo((float) (1 + 0x1p-7));

        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < 200_000; i++) {
            // Values near BF16 ties: a random bf16 midpoint plus a tiny offset of either sign (or none).
            short base = (short) (0x3800 + rng.nextInt(0x1000));
            double mid = (Floats.bf16ToFloat(base) + (double) Floats.bf16ToFloat((short) (base + 1))) / 2;
            double x = switch (i % 3) {
                case 0 -> mid;
                case 1 -> mid + Math.ulp(mid) * rng.nextInt(1, 1000);
                default -> mid - Math.ulp(mid) * rng.nextInt(1, 1000);
            };
            x = rng.nextBoolean() ? x : -x;
            SingleRounding.store(t.data(), DType.BF16, 0, x);
            assertThat(t.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, 0)).as("bf16(%s)", x)
                    .isEqualTo(nearestBf16(x));
        }
    }

    @Test
    void mergeAddsScaledBaTransposedForFanInFanOutAndUnmergeUndoesIt() {
        SplittableRandom rng = new SplittableRandom(11);
        int in = 6;
        int out = 5;
        for (boolean transposed : new boolean[] {false, true}) {
            for (DType dtype : DType.values()) {
                Tensor stored = transposed ? Tensor.allocate(Arena.global(), dtype, in, out)
                        : Tensor.allocate(Arena.global(), dtype, out, in);
                for (long i = 0; i < stored.numel(); i++) {
                    stored.setFlat(i, (float) rng.nextGaussian());
                }
                Tensor w = transposed ? stored.t() : stored;
                Linear layer = new Linear("m", w, null, transposed);
                LoraLinear lora = new LoraLinear("m", in, out, 3, 0.75, 0);
                lora.initialize(InitLoraWeights.RANDOM, rng.split());
                Tensor merged = LoraMerge.merged(layer, lora, Arena.global());
                assertThat(merged.shape()).isEqualTo(stored.shape());
                assertThat(merged.dtype()).isEqualTo(dtype);
                Tensor mergedView = transposed ? merged.t() : merged;
                double[] delta = LoraDelta.matrix(lora);
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        // Reference: ΔW[o,i] = s·Σ_k B[o,k]·A[k,i] written out, added to W[o,i], rounded once.
                        double d = 0;
                        for (int k = 0; k < 3; k++) {
                            d += (double) lora.loraB().value()[o * 3 + k] * lora.loraA().value()[k * in + i];
                        }
                        assertThat(delta[o * in + i]).isCloseTo(0.75 * d, within(1e-12));
                        double exact = w.get(o, i) + 0.75 * d;
                        float expected = switch (dtype) {
                            case F32 -> (float) exact;
                            case BF16 -> Floats.bf16ToFloat(nearestBf16(exact));
                            case F16 -> Floats.f16ToFloat(Floats.floatToF16(SingleRounding.toFloatRoundToOdd(exact)));
                        };
                        assertThat(mergedView.get(o, i)).as("%s %s [%d,%d]", dtype, transposed, o, i).isEqualTo(expected);
                    }
                }
                Tensor back = LoraMerge.unmerged(mergedView, transposed, lora, Arena.global());
                Tensor backView = transposed ? back.t() : back;
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        // Each direction rounds once: back within one unit in the last place of the dtype.
                        float ulp = switch (dtype) {
                            case F32 -> Math.ulp(Math.abs(w.get(o, i)) + 8f);
                            case BF16 -> Math.ulp(Math.abs(w.get(o, i)) + 8f) * 65536;
                            case F16 -> Math.ulp(Math.abs(w.get(o, i)) + 8f) * 8192;
                        };
                        assertThat(backView.get(o, i)).isCloseTo(w.get(o, i), within(ulp));
                    }
                }
            }
        }
    }
}
