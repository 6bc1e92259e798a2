package dev.lora4j.model.bert;

import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;

/**
 * One vector per sequence from the per-token hidden states [batch·seqLen, hidden]:
 * {@link #CLS} takes the first token ({@code [CLS]} for BERT, {@code <s>} for RoBERTa, which is what
 * transformers' sequence-classification heads read); {@link #MEAN} averages the real tokens (attention
 * mask 1), as sentence-transformers does for all-MiniLM-L6-v2's sentence embeddings.
 */
public enum Pooling {
    CLS,
    MEAN;

    /** [batch, hidden]. */
    public Tensor forward(Tensor hidden, TokenBatch batch) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        int d = hidden.dim(1);
        Tensor out = Buffers.f32(b, d);
        for (int s = 0; s < b; s++) {
            if (this == CLS) {
                out.select(0, s).copyFrom(hidden.select(0, s * t));
                continue;
            }
            int real = realTokens(batch, s);
            float[] sum = new float[d];
            for (int i = 0; i < t; i++) {
                if (batch.attentionMask()[s * t + i] != 0) {
                    for (int c = 0; c < d; c++) {
                        sum[c] += hidden.get(s * t + i, c);
                    }
                }
            }
            for (int c = 0; c < d; c++) {
                out.set(sum[c] / real, s, c);
            }
        }
        return out;
    }

    /** dHidden [batch·seqLen, hidden] from dPooled [batch, hidden]; rows that were not pooled get 0. */
    public Tensor backward(Tensor dPooled, TokenBatch batch) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        int d = dPooled.dim(1);
        Tensor dHidden = Buffers.f32(b * t, d);
        for (int s = 0; s < b; s++) {
            if (this == CLS) {
                dHidden.select(0, s * t).copyFrom(dPooled.select(0, s));
                continue;
            }
            float inv = 1f / realTokens(batch, s);
            for (int i = 0; i < t; i++) {
                if (batch.attentionMask()[s * t + i] != 0) {
                    for (int c = 0; c < d; c++) {
                        dHidden.set(dPooled.get(s, c) * inv, s * t + i, c);
                    }
                }
            }
        }
        return dHidden;
    }

    private static int realTokens(TokenBatch batch, int sequence) {
        int n = 0;
        for (int i = 0; i < batch.seqLen(); i++) {
            n += batch.attentionMask()[sequence * batch.seqLen() + i] != 0 ? 1 : 0;
        }
        if (n == 0) {
            throw new IllegalArgumentException("sequence " + sequence + " of the batch has no real token to pool");
        }
        return n;
    }
}
