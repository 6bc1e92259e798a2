package dev.lora4j.kernels;

/**
 * Precomputed cos/sin of rotary position embeddings for positions [0, maxPositions).
 *
 * <p>For position p and frequency j: θ = p·invFreq[j], computed as a float product as Hugging
 * Face does (inv_freq times position ids in float32), then cos θ and sin θ in double, each times
 * {@code attentionScaling} (1 for plain RoPE; YaRN and similar variants scale it), rounded to
 * float. The frequencies themselves (base, scaling variants such as Llama 3 or linear) are the
 * caller's business: pass {@code inv_freq} as the model computes it. {@code invFreq.length} is
 * half the rotated dimension: headDim/2 normally, rotaryDim/2 for partial rotary embeddings.
 */
public final class RopeTable {
    private final int half;
    private final int maxPositions;
    private final float[] cos;   // [maxPositions, half]
    private final float[] sin;

    public RopeTable(float[] invFreq, float attentionScaling, int maxPositions) {
        if (invFreq == null || invFreq.length == 0) {
            throw new IllegalArgumentException("RopeTable: invFreq must hold at least one frequency");
        }
        if (maxPositions <= 0) {
            throw new IllegalArgumentException("RopeTable: maxPositions must be positive, got " + maxPositions);
        }
        this.half = invFreq.length;
        this.maxPositions = maxPositions;
        this.cos = new float[maxPositions * half];
        this.sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++) {
            for (int j = 0; j < half; j++) {
                float theta = (float) p * invFreq[j];
                cos[p * half + j] = (float) (Math.cos(theta) * attentionScaling);
                sin[p * half + j] = (float) (Math.sin(theta) * attentionScaling);
            }
        }
    }

    /** Number of rotated pairs: half the rotary dimension. */
    public int half() {
        return half;
    }

    /** Dimensions rotated per head (2·half); the rest of each head passes through. */
    public int rotaryDim() {
        return 2 * half;
    }

    public int maxPositions() {
        return maxPositions;
    }

    public float cos(int position, int j) {
        return cos[position * half + j];
    }

    public float sin(int position, int j) {
        return sin[position * half + j];
    }

    float[] cosArray() {
        return cos;
    }

    float[] sinArray() {
        return sin;
    }
}
