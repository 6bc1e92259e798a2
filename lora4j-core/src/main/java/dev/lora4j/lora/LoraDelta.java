package dev.lora4j.lora;

/**
 * The weight change a LoRA adapter stands for: {@code ΔW = s·B·A} [out, in], computed in double so
 * that a merge rounds only once (into the stored dtype).
 */
public final class LoraDelta {
    private LoraDelta() {}

    /** Row {@code o} of ΔW into {@code row} [in]: {@code s·Σ_k B[o,k]·A[k,:]}. */
    public static void row(LoraLinear adapter, int o, double[] row) {
        int r = adapter.rank();
        int in = adapter.inFeatures();
        float[] a = adapter.loraA().value();
        float[] b = adapter.loraB().value();
        java.util.Arrays.fill(row, 0, in, 0.0);
        for (int k = 0; k < r; k++) {
            double bk = b[o * r + k];
            if (bk == 0) {
                continue;
            }
            int aRow = k * in;
            for (int i = 0; i < in; i++) {
                row[i] += bk * a[aRow + i];
            }
        }
        double s = adapter.scaling();
        for (int i = 0; i < in; i++) {
            row[i] *= s;
        }
    }

    /**
     * Row {@code n} of an embedding adapter's table change {@code ΔE = s·(B·A)ᵀ} [num, dim] into
     * {@code row} [dim]: {@code ΔE[n, d] = s·Σ_k B[d,k]·A[k,n]}.
     */
    public static void embeddingRow(LoraEmbedding adapter, int n, double[] row) {
        int r = adapter.rank();
        int num = adapter.numEmbeddings();
        int dim = adapter.embeddingDim();
        float[] a = adapter.loraA().value();
        float[] b = adapter.loraB().value();
        double s = adapter.scaling();
        for (int d = 0; d < dim; d++) {
            double sum = 0;
            for (int k = 0; k < r; k++) {
                sum += (double) b[d * r + k] * a[k * num + n];
            }
            row[d] = s * sum;
        }
    }

    /** The whole ΔW, row-major [out, in]. For small matrices (tests, SVD combination of small layers). */
    public static double[] matrix(LoraLinear adapter) {
        int out = adapter.outFeatures();
        int in = adapter.inFeatures();
        double[] m = new double[out * in];
        double[] row = new double[in];
        for (int o = 0; o < out; o++) {
            row(adapter, o, row);
            System.arraycopy(row, 0, m, o * in, in);
        }
        return m;
    }
}
