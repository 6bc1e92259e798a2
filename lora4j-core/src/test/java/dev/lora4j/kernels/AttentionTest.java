package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AttentionTest {

    /** One attention problem: sizes, flags and (optionally) a key mask. */
    record Case(String name, int batch, int tq, int tk, int nHeads, int nKvHeads, int headDim, boolean causal, int[] mask) {
        float scale() {
            return (float) (1 / Math.sqrt(headDim));
        }

        int qCols() {
            return nHeads * headDim;
        }

        int kvCols() {
            return nKvHeads * headDim;
        }

        int lseLength() {
            return batch * nHeads * tq;
        }
    }

    static int[] mask(int batch, int tk, int... hidden /* pairs (b, j) */) {
        int[] m = new int[batch * tk];
        Arrays.fill(m, 1);
        for (int i = 0; i < hidden.length; i += 2) {
            m[hidden[i] * tk + hidden[i + 1]] = 0;
        }
        return m;
    }

    static Case[] cases() {
        int l = Vec.L;
        return new Case[] {
            new Case("causal GQA, tail head", 2, 5, 5, 4, 2, l + 3, true, null),
            new Case("bidirectional MHA", 2, 6, 6, 3, 3, 2 * l, false, null),
            new Case("causal, right padding", 2, 5, 5, 2, 1, 7, true, mask(2, 5, 1, 3, 1, 4)),
            new Case("bidirectional, left padding (BERT)", 2, 4, 4, 2, 2, l + 1, false, mask(2, 4, 0, 0, 1, 0, 1, 1)),
            new Case("decode tq < tk, GQA", 2, 2, 7, 4, 1, l - 1, true, null),
            new Case("decode one token", 1, 1, 9, 2, 2, 5, true, mask(1, 9, 0, 2)),
            new Case("a sequence with every key masked", 2, 3, 3, 2, 1, 4, false, mask(2, 3, 0, 0, 0, 1, 0, 2)),
            new Case("causal with the first key masked", 1, 4, 4, 2, 2, 3, true, mask(1, 4, 0, 0)),
            // more rows than one query block (and a partial last block), odd key counts per block
            new Case("causal, several query blocks, GQA", 2, Attention.BLOCK * 2 + 5, Attention.BLOCK * 2 + 5, 4, 2,
                    2 * l + 3, true, mask(2, Attention.BLOCK * 2 + 5, 1, 7, 1, Attention.BLOCK + 1)),
            new Case("decode several blocks tq < tk", 1, Attention.BLOCK + 3, Attention.BLOCK * 2 + 1, 2, 2, l, true, null),
            new Case("decode one token per sequence, GQA, vector head + tail", 3, 1, 11, 4, 2, 2 * l + 3, true,
                    mask(3, 11, 0, 0, 1, 4, 2, 10)),
        };
    }

    @Test
    void vectorMatchesScalarOnStridedViews() {
        Random rnd = new Random(15);
        for (Case c : cases()) {
            int qRows = c.batch * c.tq;
            int kRows = c.batch * c.tk;
            // q, k, v, out as column windows of wider buffers (e.g. a fused QKV projection)
            Tensor q = TestData.rowView(rnd, qRows, c.qCols());
            Tensor k = TestData.rowView(rnd, kRows, c.kvCols());
            Tensor v = TestData.rowView(rnd, kRows, c.kvCols());
            Tensor out = TestData.rowView(rnd, qRows, c.qCols());
            Tensor outRef = Tensor.zeros(qRows, c.qCols());
            float[] lse = new float[c.lseLength()];
            float[] lseRef = new float[c.lseLength()];
            Attention.forward(q, k, v, out, c.batch, c.tq, c.tk, c.nHeads, c.nKvHeads, c.headDim, c.causal, c.mask, c.scale(), lse);
            AttentionScalar.forward(q, k, v, outRef, c.batch, c.tq, c.tk, c.nHeads, c.nKvHeads, c.headDim, c.causal, c.mask, c.scale(), lseRef);
            // dot products and softmax sums in different orders over ≤ 2L terms: ~1e-6
            TestData.assertClose(c.name + ": out", outRef, out, 1e-5, 1e-6);
            TestData.assertClose(c.name + ": lse", lseRef, lse, 1e-5, 1e-6);

            Tensor dout = TestData.rowView(rnd, qRows, c.qCols());
            Tensor dq = TestData.rowView(rnd, qRows, c.qCols());
            Tensor dk = TestData.rowView(rnd, kRows, c.kvCols());
            Tensor dv = TestData.rowView(rnd, kRows, c.kvCols());
            Tensor dqRef = Tensor.zeros(qRows, c.qCols());
            Tensor dkRef = Tensor.zeros(kRows, c.kvCols());
            Tensor dvRef = Tensor.zeros(kRows, c.kvCols());
            Attention.backward(dout, q, k, v, out, lse, dq, dk, dv, c.batch, c.tq, c.tk, c.nHeads, c.nKvHeads, c.headDim,
                    c.causal, c.mask, c.scale());
            AttentionScalar.backward(dout, q, k, v, outRef, lseRef, dqRef, dkRef, dvRef, c.batch, c.tq, c.tk, c.nHeads,
                    c.nKvHeads, c.headDim, c.causal, c.mask, c.scale());
            // backward uses D = ⟨dout, out⟩ where the twin uses Σ p·dp: equal in exact arithmetic
            TestData.assertClose(c.name + ": dq", dqRef, dq, 1e-4, 1e-5);
            TestData.assertClose(c.name + ": dk", dkRef, dk, 1e-4, 1e-5);
            TestData.assertClose(c.name + ": dv", dvRef, dv, 1e-4, 1e-5);
        }
    }

    @Test
    void queriesThatSeeNoKeyGiveZerosNotNaN() {
        Case c = cases()[6];
        Random rnd = new Random(16);
        Tensor q = Tensor.of(TestData.gaussian(rnd, c.batch * c.tq * c.qCols(), 1), c.batch * c.tq, c.qCols());
        Tensor k = Tensor.of(TestData.gaussian(rnd, c.batch * c.tk * c.kvCols(), 1), c.batch * c.tk, c.kvCols());
        Tensor out = Tensor.zeros(c.batch * c.tq, c.qCols());
        out.fill(Float.NaN);
        float[] lse = new float[c.lseLength()];
        Attention.forward(q, k, k, out, c.batch, c.tq, c.tk, c.nHeads, c.nKvHeads, c.headDim, c.causal, c.mask, c.scale(), lse);
        for (int i = 0; i < c.tq; i++) {  // sequence 0 has every key masked
            for (int d = 0; d < c.qCols(); d++) {
                assertThat(out.get(i, d)).isZero();
            }
        }
        assertThat(out.toFloatArray()).doesNotContain(Float.NaN);
        Tensor dq = Tensor.zeros(c.batch * c.tq, c.qCols());
        Tensor dk = Tensor.zeros(c.batch * c.tk, c.kvCols());
        Tensor dv = Tensor.zeros(c.batch * c.tk, c.kvCols());
        Tensor dout = Tensor.of(TestData.gaussian(rnd, c.batch * c.tq * c.qCols(), 1), c.batch * c.tq, c.qCols());
        Attention.backward(dout, q, k, k, out, lse, dq, dk, dv, c.batch, c.tq, c.tk, c.nHeads, c.nKvHeads, c.headDim,
                c.causal, c.mask, c.scale());
        assertThat(dq.toFloatArray()).doesNotContain(Float.NaN);
        assertThat(dk.toFloatArray()).doesNotContain(Float.NaN);
        assertThat(dv.toFloatArray()).doesNotContain(Float.NaN);
    }

    @Test
    void causalOutputOfAPrefixDoesNotDependOnLaterKeys() {
        // decode consistency: attending with tq = 1 over the first t keys equals row t−1 of the full causal pass
        Random rnd = new Random(17);
        int t = 6;
        int hd = Vec.L + 2;
        Tensor q = Tensor.of(TestData.gaussian(rnd, t * 2 * hd, 1), t, 2 * hd);
        Tensor k = Tensor.of(TestData.gaussian(rnd, t * hd, 1), t, hd);
        Tensor v = Tensor.of(TestData.gaussian(rnd, t * hd, 1), t, hd);
        Tensor full = Tensor.zeros(t, 2 * hd);
        float scale = 0.3f;
        Attention.forward(q, k, v, full, 1, t, t, 2, 1, hd, true, null, scale, null);
        for (int pos = 1; pos <= t; pos++) {
            Tensor one = Tensor.zeros(1, 2 * hd);
            Attention.forward(q.slice(0, pos - 1, pos), k.slice(0, 0, pos), v.slice(0, 0, pos), one, 1, 1, pos, 2, 1, hd,
                    true, null, scale, null);
            TestData.assertClose("decode at " + pos, full.slice(0, pos - 1, pos).toFloatArray(), one.toFloatArray(), 1e-6, 1e-7);
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random rnd = new Random(18);
        Case[] fd = {
            new Case("causal GQA", 2, 3, 3, 4, 2, 5, true, null),
            new Case("bidirectional masked", 2, 3, 4, 2, 2, 3, false, mask(2, 4, 0, 3, 1, 0)),
            new Case("causal masked tq < tk", 1, 2, 5, 2, 1, 4, true, mask(1, 5, 0, 1)),
        };
        for (Case c : fd) {
            int qRows = c.batch * c.tq;
            int kRows = c.batch * c.tk;
            float[] q = TestData.gaussian(rnd, qRows * c.qCols(), 1);
            float[] k = TestData.gaussian(rnd, kRows * c.kvCols(), 1);
            float[] v = TestData.gaussian(rnd, kRows * c.kvCols(), 1);
            float[] w = TestData.gaussian(rnd, qRows * c.qCols(), 1);
            Tensor qt = Tensor.of(q, qRows, c.qCols());
            Tensor kt = Tensor.of(k, kRows, c.kvCols());
            Tensor vt = Tensor.of(v, kRows, c.kvCols());
            Tensor out = Tensor.zeros(qRows, c.qCols());
            float[] lse = new float[c.lseLength()];
            Attention.forward(qt, kt, vt, out, c.batch, c.tq, c.tk, c.nHeads, c.nKvHeads, c.headDim, c.causal, c.mask, c.scale(), lse);
            Tensor dq = Tensor.zeros(qRows, c.qCols());
            Tensor dk = Tensor.zeros(kRows, c.kvCols());
            Tensor dv = Tensor.zeros(kRows, c.kvCols());
            Attention.backward(Tensor.of(w, qRows, c.qCols()), qt, kt, vt, out, lse, dq, dk, dv, c.batch, c.tq, c.tk,
                    c.nHeads, c.nKvHeads, c.headDim, c.causal, c.mask, c.scale());
            java.util.function.DoubleSupplier loss = () -> {
                Attention.forward(qt, kt, vt, out, c.batch, c.tq, c.tk, c.nHeads, c.nKvHeads, c.headDim, c.causal, c.mask,
                        c.scale(), null);
                return GradCheck.dot(w, out.toFloatArray());
            };
            GradCheck.check(c.name + " dq", q, loss, dq.toFloatArray());
            GradCheck.check(c.name + " dk", k, loss, dk.toFloatArray());
            GradCheck.check(c.name + " dv", v, loss, dv.toFloatArray());
        }
    }

    @Test
    void badShapesAreNamed() {
        assertThatThrownBy(() -> Attention.forward(Tensor.zeros(2, 8), Tensor.zeros(2, 4), Tensor.zeros(2, 4), Tensor.zeros(2, 8),
                1, 2, 2, 3, 2, 4, true, null, 0.5f, null)).hasMessageContaining("not a multiple");
        assertThatThrownBy(() -> Attention.forward(Tensor.zeros(2, 8), Tensor.zeros(2, 4), Tensor.zeros(3, 4), Tensor.zeros(2, 8),
                1, 2, 2, 2, 1, 4, true, null, 0.5f, null)).hasMessageContaining("attention: v");
        assertThatThrownBy(() -> Attention.forward(Tensor.zeros(2, 8), Tensor.zeros(2, 4), Tensor.zeros(2, 4), Tensor.zeros(2, 8),
                1, 2, 2, 2, 1, 4, true, new int[3], 0.5f, null)).hasMessageContaining("keyMask");
    }
}
