package dev.lora4j.lora;

import dev.lora4j.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An estimate of the memory one LoRA training step of lora4j needs, by part (bytes):
 *
 * <pre>
 *   frozen weights   = size of the weight files. They are memory-mapped, never copied: resident as
 *                      (shared, evictable) page cache once a step has touched them, not Java heap.
 *   activations      = T · L · (floats saved per token per layer) · 4 + head, with T = batch · seqLen.
 *                      What backward needs per layer, per token (F32):
 *                        Llama/Qwen2: 2·d (the two norms' inputs) + 2·d (their outputs, the inputs of
 *                                     q/k/v and gate/up) + (Hq + 2·Hkv)·hd (q, k, v after RoPE)
 *                                     + Hq·hd (attention output, o_proj's input) + Hq (softmax
 *                                     log-sum-exp) + 3·I (gate, up, and silu(gate)·up, down's input)
 *                        GPT-2:       2·d + 2·d + 3·d (fused q|k|v) + d + H + 2·I (c_fc output and its GELU)
 *                      plus, per adapted module, r floats (x·Aᵀ) and, with dropout, its input again.
 *   head             = T · (2·V) · 4: the logits and their gradient (F32), plus 2·T·d for the final norm.
 *   backward scratch = one layer's activations again: gradients of a layer's inputs live while it is
 *                      processed, and are dropped before the next layer down.
 *   adapter state    = P · 4 · 4: value, gradient and AdamW's two moments, F32, for the P adapter parameters.
 * </pre>
 * It leaves out the JVM itself (tens of MB) and allocator slack; a measured peak is typically within
 * a few tens of percent above it.
 */
public record TrainingMemoryEstimate(long frozenWeightBytes, long activationBytes, long headBytes,
                                     long backwardScratchBytes, long adapterStateBytes) {

    public long totalBytes() {
        return frozenWeightBytes + activationBytes + headBytes + backwardScratchBytes + adapterStateBytes;
    }

    /** Heap (everything but the mapped weights). */
    public long heapBytes() {
        return totalBytes() - frozenWeightBytes;
    }

    /**
     * @param adapterRankPerLayer Σ r over the adapted modules of one layer (0 without an adapter)
     * @param adapterInputsPerLayer Σ in_features over the adapted modules of one layer (dropout copies)
     */
    public static TrainingMemoryEstimate of(ModelConfig c, long weightBytes, long adapterParams,
            long adapterRankPerLayer, long adapterInputsPerLayer, double dropout, int batch, int seqLen) {
        long tokens = (long) batch * seqLen;
        long d = c.hiddenSize();
        long hd = c.headDim();
        long i = c.intermediateSize();
        long perLayer;
        if (c.modelType().equals("gpt2")) {
            perLayer = 2 * d + 2 * d + 3 * d + d + c.numHeads() + 2 * i;
        } else {
            perLayer = 2 * d + 2 * d + (c.numHeads() + 2L * c.numKvHeads()) * hd + c.numHeads() * hd + c.numHeads()
                    + 3 * i;
        }
        perLayer += adapterRankPerLayer + (dropout > 0 ? adapterInputsPerLayer : 0);
        long activations = tokens * c.numLayers() * perLayer * Float.BYTES;
        long head = tokens * (2L * c.vocabSize() + 2 * d) * Float.BYTES;
        long scratch = tokens * perLayer * Float.BYTES;
        long adapterState = adapterParams * 4 * Float.BYTES;
        return new TrainingMemoryEstimate(weightBytes, activations, head, scratch, adapterState);
    }

    /** The parts by name, for printing. */
    public Map<String, Long> parts() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("frozen_weights_mapped", frozenWeightBytes);
        m.put("activations", activationBytes);
        m.put("logits_and_head", headBytes);
        m.put("backward_scratch", backwardScratchBytes);
        m.put("adapter_params_grads_adamw", adapterStateBytes);
        m.put("total", totalBytes());
        return m;
    }
}
