package dev.lora4j.lora;

import dev.lora4j.kernels.Matmul;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.EmbeddingAdapter;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The LoRA branch beside a frozen embedding table E [num, dim], as PEFT's {@code lora.Embedding}:
 * {@code y[r] = E[ids[r]] + s·Aᵀ[ids[r]]·Bᵀ} with {@code A: [r, num]} ({@code lora_embedding_A}) and
 * {@code B: [dim, r]} ({@code lora_embedding_B}), so the weight change is {@code ΔE = s·(B·A)ᵀ}.
 *
 * <p>A lookup of column {@code ids[r]} of A is a one-hot row times Aᵀ, so this is LoRA on the one-hot
 * input, computed without the one-hot matrix. Forward keeps {@code u = s·Aᵀ[ids]} [rows, r].
 * Backward, for the gradient dy [rows, dim] of the lookup's output:
 * <pre>
 *   dB                += dyᵀ·u                     [dim, r]
 *   dA[:, ids[row]]   += s·(dy·B)[row]             scatter-add: a repeated id sums its rows
 * </pre>
 * except for the base layer's padding_idx (Llama's pad_token_id), whose column PEFT's lookup leaves
 * without gradient.
 * As in PEFT, {@code lora_dropout} does not apply to embeddings (PEFT builds the dropout module but
 * its embedding forward never calls it), and there is no input gradient: ids are not differentiable.
 */
public final class LoraEmbedding extends LoraFactors implements LoraAdapter, EmbeddingAdapter {
    private final int paddingIdx;
    private Tensor savedU;

    /**
     * @param paddingIdx the base embedding's padding_idx, or -1: PEFT looks A up with the base layer's
     *                   padding_idx, so that column of A gets no gradient
     */
    public LoraEmbedding(String modulePath, int numEmbeddings, int embeddingDim, int rank, double scaling,
            int paddingIdx) {
        // PEFT's names: nn.Parameters directly on the layer, so no ".weight" suffix.
        super(modulePath, new Parameter(modulePath + ".lora_embedding_A", rank, numEmbeddings),
                new Parameter(modulePath + ".lora_embedding_B", embeddingDim, rank), scaling);
        this.paddingIdx = paddingIdx;
    }

    /**
     * PEFT's embedding initialization, which is the reverse of the linear one: with {@code true} or
     * {@code gaussian}, A = 0 and B ~ N(0, 1) (nn.Embedding's own init), so the adapter starts as a
     * no-op; with {@code false}, both A and B ~ N(0, 1) (the torch.randn they are created with).
     */
    @Override
    public void initialize(InitLoraWeights init, SplittableRandom rng) {
        if (init == InitLoraWeights.RANDOM) {
            standardNormal(a.value(), rng);
        } else {
            Arrays.fill(a.value(), 0f);
        }
        standardNormal(b.value(), rng);
    }

    private static void standardNormal(float[] v, SplittableRandom rng) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
    }

    public int numEmbeddings() {
        return a.shape()[1];
    }

    public int embeddingDim() {
        return b.shape()[0];
    }

    /** No dropout on embeddings (as in PEFT), so training and inference compute the same thing. */
    @Override
    public void setTraining(boolean training, long seed, long step) {}

    @Override
    public void forward(int[] ids, Tensor out) {
        if (!enabled) {
            return;
        }
        int rank = rank();
        int num = numEmbeddings();
        float[] av = a.value();
        Tensor u = Buffers.reuse(savedU, ids.length, rank);
        for (int r = 0; r < ids.length; r++) {
            int id = ids[r];  // the frozen lookup has already checked 0 <= id < num
            for (int k = 0; k < rank; k++) {
                u.set(scaling * av[k * num + id], r, k);  // u[r] = s·Aᵀ[id]: column id of A
            }
        }
        Matmul.forward(u, b.valueTensor(), out, true);
        savedU = u;
    }

    @Override
    public void backward(int[] ids, Tensor dOut) {
        if (!enabled) {
            return;
        }
        if (savedU == null || savedU.dim(0) != ids.length) {
            throw new IllegalStateException(modulePath + ": backward needs this adapter's forward first");
        }
        int rank = rank();
        int num = numEmbeddings();
        Matmul.backwardWeight(dOut, savedU, b.gradTensor(), true);
        Tensor du = Buffers.f32(ids.length, rank);
        Matmul.backwardInput(dOut, b.valueTensor(), du, false);
        float[] ga = a.grad();
        for (int r = 0; r < ids.length; r++) {
            int id = ids[r];
            if (id == paddingIdx) {
                continue;
            }
            for (int k = 0; k < rank; k++) {
                ga[k * num + id] += scaling * du.get(r, k);
            }
        }
    }

    @Override
    public void clearSaved() {
        savedU = null;
    }

    @Override
    public String toString() {
        return "LoraEmbedding[" + modulePath + ", r=" + rank() + ", s=" + scaling + "]";
    }
}
