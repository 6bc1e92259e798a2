package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * RoPE and attention against PyTorch/transformers (tools/golden/kernels_golden.py): Llama's
 * rotary embedding incl. partial rotary and YaRN attention scaling, and attention with GQA,
 * causal and padding masks and tq < tk, with autograd gradients.
 */
class TorchGoldenTest {

    static JsonNode golden() throws IOException {
        try (InputStream in = TorchGoldenTest.class.getResourceAsStream("/golden/kernels.json")) {
            assertThat(in).as("golden/kernels.json on the test classpath").isNotNull();
            return new ObjectMapper().readTree(in);
        }
    }

    static float[] floats(JsonNode n) {
        float[] a = new float[n.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) n.get(i).asDouble();
        }
        return a;
    }

    static int[] ints(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        int[] a = new int[n.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = n.get(i).asInt();
        }
        return a;
    }

    @Test
    void ropeMatchesTransformers() throws IOException {
        JsonNode cases = golden().get("rope");
        assertThat(cases.size()).isEqualTo(3);
        for (JsonNode c : cases) {
            int nHeads = c.get("nHeads").asInt();
            int headDim = c.get("headDim").asInt();
            int[] pos = ints(c.get("positions"));
            RopeTable table = new RopeTable(floats(c.get("invFreq")), (float) c.get("attentionScaling").asDouble(), 64);
            assertThat(table.rotaryDim()).isEqualTo(c.get("rotaryDim").asInt());
            Tensor x = Tensor.of(floats(c.get("x")), pos.length, nHeads * headDim);
            Rope.apply(x, pos, nHeads, headDim, table);
            // both compute θ = p·invFreq in float and cos/sin accurately; positions up to 63 give
            // angles up to 63 rad whose float rounding (±2e-6 rad) bounds the agreement
            TestData.assertClose("rope " + c.get("name").asText(), floats(c.get("y")), x.toFloatArray(), 1e-5, 1e-5);
        }
    }

    @Test
    void attentionMatchesTorch() throws IOException {
        JsonNode cases = golden().get("attention");
        assertThat(cases.size()).isEqualTo(3);
        for (JsonNode c : cases) {
            String name = c.get("name").asText();
            int b = c.get("batch").asInt();
            int tq = c.get("tq").asInt();
            int tk = c.get("tk").asInt();
            int h = c.get("nHeads").asInt();
            int hkv = c.get("nKvHeads").asInt();
            int hd = c.get("headDim").asInt();
            boolean causal = c.get("causal").asBoolean();
            int[] mask = ints(c.get("keyMask"));
            float scale = (float) c.get("scale").asDouble();
            Tensor q = Tensor.of(floats(c.get("q")), b * tq, h * hd);
            Tensor k = Tensor.of(floats(c.get("k")), b * tk, hkv * hd);
            Tensor v = Tensor.of(floats(c.get("v")), b * tk, hkv * hd);
            Tensor out = Tensor.zeros(b * tq, h * hd);
            float[] lse = new float[b * h * tq];
            Attention.forward(q, k, v, out, b, tq, tk, h, hkv, hd, causal, mask, scale, lse);
            // reference is float64 from the same float32 inputs: our float error is ~1e-6
            TestData.assertClose(name + ": out", floats(c.get("out")), out.toFloatArray(), 1e-4, 2e-5);
            Tensor dq = Tensor.zeros(b * tq, h * hd);
            Tensor dk = Tensor.zeros(b * tk, hkv * hd);
            Tensor dv = Tensor.zeros(b * tk, hkv * hd);
            Attention.backward(Tensor.of(floats(c.get("w")), b * tq, h * hd), q, k, v, out, lse, dq, dk, dv,
                    b, tq, tk, h, hkv, hd, causal, mask, scale);
            TestData.assertClose(name + ": dq", floats(c.get("dq")), dq.toFloatArray(), 1e-4, 5e-5);
            TestData.assertClose(name + ": dk", floats(c.get("dk")), dk.toFloatArray(), 1e-4, 5e-5);
            TestData.assertClose(name + ": dv", floats(c.get("dv")), dv.toFloatArray(), 1e-4, 5e-5);
        }
    }
}
