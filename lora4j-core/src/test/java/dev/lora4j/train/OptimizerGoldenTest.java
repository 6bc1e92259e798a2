package dev.lora4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.tensor.Parameter;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * AdamW + clipping + schedules against torch.optim.AdamW, clip_grad_norm_ and transformers'
 * schedules (tools/golden/make_optimizer_goldens.py). Parameters must agree to 1e-6 absolute (a few float ulps; the first steps are bit-exact) after
 * 12 steps: both sides use float32 with the same operation order, the residual coming from the
 * float32 pairwise norm in PyTorch versus our double norm, which shifts the clip coefficient in its
 * last bit.
 */
class OptimizerGoldenTest {
    static JsonNode golden;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = OptimizerGoldenTest.class.getResourceAsStream("/golden/train/adamw.json")) {
            golden = new ObjectMapper().readTree(in);
        }
    }

    @Test
    void adamWWithClippingAndLinearWarmupMatchesPyTorch() {
        List<Parameter> params = new ArrayList<>();
        JsonNode shapes = golden.get("shapes");
        for (int i = 0; i < shapes.size(); i++) {
            int[] shape = new int[shapes.get(i).size()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = shapes.get(i).get(d).asInt();
            }
            Parameter p = new Parameter("p" + i, shape);
            fill(p.value(), golden.get("init").get(i));
            params.add(p);
        }
        AdamW opt = new AdamW(params, golden.get("weight_decay").asDouble());
        double lr = golden.get("lr").asDouble();
        int warmup = golden.get("warmup").asInt();
        int total = golden.get("total").asInt();
        int step = 0;
        for (JsonNode s : golden.get("steps")) {
            for (int i = 0; i < params.size(); i++) {
                fill(params.get(i).grad(), s.get("grads").get(i));
            }
            double norm = GradClip.clip(params, golden.get("max_norm").asDouble());
            assertThat(norm).isCloseTo(s.get("norm").asDouble(), within(1e-5 * norm));
            double stepLr = lr * LrSchedule.LINEAR.multiplier(step, warmup, total);
            assertThat(stepLr).isCloseTo(s.get("lr").asDouble(), within(1e-12));
            opt.step(stepLr);
            for (int i = 0; i < params.size(); i++) {
                float[] expected = floats(s.get("params").get(i));
                float[] actual = params.get(i).value();
                for (int j = 0; j < expected.length; j++) {
                    assertThat(actual[j]).as("step %d param %d[%d]", step, i, j).isCloseTo(expected[j], within(1e-6f));
                }
            }
            step++;
        }
    }

    @Test
    void schedulesMatchTransformers() {
        for (LrSchedule s : LrSchedule.values()) {
            JsonNode expected = golden.get("schedules").get(s.name().toLowerCase());
            long total = s == LrSchedule.CONSTANT ? 12 : 10;
            for (int step = 0; step < expected.size(); step++) {
                assertThat(s.multiplier(step, 3, total)).as("%s step %d", s, step)
                        .isCloseTo(expected.get(step).asDouble(), within(1e-12));
            }
        }
    }

    private static void fill(float[] dst, JsonNode values) {
        for (int i = 0; i < dst.length; i++) {
            dst[i] = (float) values.get(i).asDouble();
        }
    }

    private static float[] floats(JsonNode values) {
        float[] out = new float[values.size()];
        fill(out, values);
        return out;
    }
}
