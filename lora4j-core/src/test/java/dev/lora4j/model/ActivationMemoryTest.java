package dev.lora4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Activation recomputation must actually save memory: after a training forward and backward, the
 * activation buffers a model holds ({@link dev.lora4j.nn.ActivationMemory#bytesHeld}) and the live Java
 * heap are both much smaller with recomputation than without. An 8-layer Llama with random weights
 * (hidden 128, MLP 344, 2 × 64 rows), LoRA with dropout on q, v and down projections.
 */
class ActivationMemoryTest {
    private static final int LAYERS = 8;
    private static final int HIDDEN = 128;
    private static final int INTER = 344;
    private static final int KV = 64;      // 4 heads of 32, 2 key/value heads: grouped-query attention
    private static final int VOCAB = 96;
    private static final int BATCH = 2;
    private static final int SEQ = 64;

    @Test
    void recomputationHoldsOneBlockOfInternalsPlusEachBlocksInput(@TempDir Path dir) throws Exception {
        writeModel(dir);
        long keepBytes;
        long recomputeBytes;
        long keepHeap;
        long recomputeHeap;
        try (CausalLM model = Models.load(dir)) {
            LoraModel lora = LoraModel.attach(model, LoraConfig.of(8, 16, ModuleSelector.parseCli("q_proj,v_proj,down_proj"))
                    .withDropout(0.1).withInit(InitLoraWeights.KAIMING), 3);
            lora.setTraining(true, 3, 0);
            TokenBatch batch = batch();
            // Keep mode first: it also allocates the gradient buffers, which are the same in both modes.
            step(model, batch);
            keepBytes = model.activationMemory().bytesHeld();
            keepHeap = liveHeap();
            List<float[]> keepGradients = gradients(lora);
            model.activationMemory().setRecompute(true);
            step(model, batch);
            recomputeBytes = model.activationMemory().bytesHeld();
            recomputeHeap = liveHeap();
            // And, eight blocks deep, the same gradients to the bit (see also RecomputeTest).
            List<float[]> recomputeGradients = gradients(lora);
            for (int i = 0; i < keepGradients.size(); i++) {
                assertThat(recomputeGradients.get(i)).as("gradient %d", i).containsExactly(keepGradients.get(i));
            }
        }
        long rowBytes = (long) BATCH * SEQ * Float.BYTES;
        // Per block, in floats per row: two norm outputs (2·128) + q, k, v and the attention output
        // (128 + 64 + 64 + 128) + the mid-block residual (128) + gate, up and silu(gate)·up (3·344) = 1800,
        // plus small per-row statistics; and the kept output (128). (o_proj's and down_proj's results go
        // to scratch buffers that are shared by all layers in either mode: only the residual reads them.)
        long blockInternals = 1800 * rowBytes;
        long keptOutput = HIDDEN * rowBytes;
        // Keep holds all eight blocks' internals; recompute holds one set, and each block's output.
        assertThat(keepBytes - recomputeBytes).as("keep %d bytes, recompute %d bytes", keepBytes, recomputeBytes)
                .isGreaterThanOrEqualTo((LAYERS - 1) * blockInternals);
        assertThat(recomputeBytes).isLessThan(keepBytes / 4);
        assertThat(recomputeBytes).isGreaterThanOrEqualTo(blockInternals + LAYERS * keptOutput);
        // The live heap shrinks by at least those buffers (~6 MB here) — more in fact, since the LoRA
        // dropout masks and masked inputs (not counted by bytesHeld) no longer pile up per layer either.
        // Half the counted difference as the bar leaves room for collector noise (a few MB at most).
        assertThat(keepHeap - recomputeHeap).as("live heap: keep %d, recompute %d", keepHeap, recomputeHeap)
                .isGreaterThan((keepBytes - recomputeBytes) / 2);
    }

    /** Copies of every adapter gradient, which are then zeroed for the next step. */
    private static List<float[]> gradients(LoraModel lora) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : lora.parameters()) {
            out.add(p.grad().clone());
        }
        lora.zeroGrad();
        return out;
    }

    private static void step(CausalLM model, TokenBatch batch) {
        Tensor logits = model.forward(batch);
        int[] targets = new int[BATCH * SEQ];
        for (int r = 0; r < targets.length; r++) {
            targets[r] = r % SEQ == SEQ - 1 ? -100 : batch.tokenIds()[r + 1];
        }
        CrossEntropy.forwardBackward(logits, targets, logits, 1f / targets.length);
        model.backward(logits);
    }

    /** Heap in use after a full collection: what is reachable. */
    private static long liveHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static TokenBatch batch() {
        Random random = new Random(5);
        int[] ids = new int[BATCH * SEQ];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(VOCAB);
        }
        return TokenBatch.of(BATCH, SEQ, ids, null, null);
    }

    private static void writeModel(Path dir) throws Exception {
        ObjectNode config = new ObjectMapper().createObjectNode();
        config.put("model_type", "llama");
        config.put("vocab_size", VOCAB);
        config.put("hidden_size", HIDDEN);
        config.put("intermediate_size", INTER);
        config.put("num_hidden_layers", LAYERS);
        config.put("num_attention_heads", 4);
        config.put("num_key_value_heads", 2);
        config.put("max_position_embeddings", SEQ);
        config.put("tie_word_embeddings", false);
        Files.writeString(dir.resolve("config.json"), config.toString());
        Random random = new Random(1);
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", random(random, VOCAB, HIDDEN));
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", ones(HIDDEN));
            w.put(p + "post_attention_layernorm.weight", ones(HIDDEN));
            w.put(p + "self_attn.q_proj.weight", random(random, HIDDEN, HIDDEN));
            w.put(p + "self_attn.k_proj.weight", random(random, KV, HIDDEN));
            w.put(p + "self_attn.v_proj.weight", random(random, KV, HIDDEN));
            w.put(p + "self_attn.o_proj.weight", random(random, HIDDEN, HIDDEN));
            w.put(p + "mlp.gate_proj.weight", random(random, INTER, HIDDEN));
            w.put(p + "mlp.up_proj.weight", random(random, INTER, HIDDEN));
            w.put(p + "mlp.down_proj.weight", random(random, HIDDEN, INTER));
        }
        w.put("model.norm.weight", ones(HIDDEN));
        w.put("lm_head.weight", random(random, VOCAB, HIDDEN));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), w, Map.of());
    }

    private static Tensor random(Random random, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * 0.05);
        }
        return Tensor.of(v, rows, cols);
    }

    private static Tensor ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return Tensor.of(v, n);
    }
}
