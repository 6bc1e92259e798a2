package dev.lora4j.model.llama2c;

import dev.lora4j.model.ConfigException;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A llama2.c checkpoint in the legacy (version 0) format, memory-mapped: a header of seven int32
 * {@code dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len} (a negative vocab_size
 * means the classifier is stored separately rather than shared with the token embedding), then
 * float32 arrays in this order: token_embedding [vocab, dim], rms_att [layers, dim],
 * wq [layers, dim, dim], wk [layers, kv_dim, dim], wv [layers, kv_dim, dim], wo [layers, dim, dim],
 * rms_ffn [layers, dim], w1 [layers, hidden, dim], w2 [layers, dim, hidden], w3 [layers, hidden, dim],
 * rms_final [dim], freq_cis_real [seq_len, head_size/2], freq_cis_imag [seq_len, head_size/2],
 * and wcls [vocab, dim] when not shared. Matrices are PyTorch Linear weights, [out, in].
 *
 * <p>The tensors are views of the mapping; they stay valid until {@link #close()}.
 */
public final class Llama2cCheckpoint implements AutoCloseable {
    private static final int HEADER_BYTES = 7 * Integer.BYTES;

    public final Path file;
    public final int dim;
    public final int hiddenDim;
    public final int nLayers;
    public final int nHeads;
    public final int nKvHeads;
    public final int vocabSize;
    public final int seqLen;
    public final boolean sharedClassifier;

    public final Tensor tokenEmbedding;
    public final Tensor rmsAtt;
    public final Tensor wq;
    public final Tensor wk;
    public final Tensor wv;
    public final Tensor wo;
    public final Tensor rmsFfn;
    public final Tensor w1;
    public final Tensor w2;
    public final Tensor w3;
    public final Tensor rmsFinal;
    public final Tensor freqCisReal;
    public final Tensor freqCisImag;
    public final Tensor classifier;

    private final Arena arena;
    private long cursor = HEADER_BYTES;
    private final MemorySegment data;

    private Llama2cCheckpoint(Path file, Arena arena, MemorySegment data) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        if (data.byteSize() < HEADER_BYTES) {
            throw bad("file of " + data.byteSize() + " bytes is shorter than the 28-byte header");
        }
        dim = header(0, "dim");
        hiddenDim = header(1, "hidden_dim");
        nLayers = header(2, "n_layers");
        nHeads = header(3, "n_heads");
        nKvHeads = header(4, "n_kv_heads");
        int rawVocab = data.get(ValueLayout.JAVA_INT_UNALIGNED, 5L * Integer.BYTES);
        if (rawVocab == 0 || rawVocab == Integer.MIN_VALUE) {
            throw bad("header field vocab_size is " + rawVocab + ", expected a non-zero size");
        }
        sharedClassifier = rawVocab > 0;
        vocabSize = Math.abs(rawVocab);
        seqLen = header(6, "seq_len");
        if (dim % nHeads != 0 || (dim / nHeads) % 2 != 0) {
            throw bad("dim " + dim + " must be n_heads (" + nHeads + ") times an even head size");
        }
        if (nHeads % nKvHeads != 0) {
            throw bad("n_heads " + nHeads + " must be a multiple of n_kv_heads " + nKvHeads);
        }
        int headSize = dim / nHeads;
        int kvDim = nKvHeads * headSize;
        long floats = (long) vocabSize * dim + 2L * nLayers * dim + 2L * nLayers * dim * dim
                + 2L * nLayers * kvDim * dim + 3L * nLayers * hiddenDim * dim + dim + (long) seqLen * headSize
                + (sharedClassifier ? 0 : (long) vocabSize * dim);
        long expected = HEADER_BYTES + 4 * floats;
        if (data.byteSize() != expected) {
            throw bad("file has " + data.byteSize() + " bytes but the header (dim " + dim + ", hidden_dim " + hiddenDim
                    + ", n_layers " + nLayers + ", n_heads " + nHeads + ", n_kv_heads " + nKvHeads + ", vocab_size "
                    + rawVocab + ", seq_len " + seqLen + ") implies " + expected + " bytes of a legacy float32 checkpoint");
        }
        tokenEmbedding = next(vocabSize, dim);
        rmsAtt = next(nLayers, dim);
        wq = next(nLayers, dim, dim);
        wk = next(nLayers, kvDim, dim);
        wv = next(nLayers, kvDim, dim);
        wo = next(nLayers, dim, dim);
        rmsFfn = next(nLayers, dim);
        w1 = next(nLayers, hiddenDim, dim);
        w2 = next(nLayers, dim, hiddenDim);
        w3 = next(nLayers, hiddenDim, dim);
        rmsFinal = next(dim);
        freqCisReal = next(seqLen, headSize / 2);
        freqCisImag = next(seqLen, headSize / 2);
        classifier = sharedClassifier ? tokenEmbedding : next(vocabSize, dim);
    }

    /** Maps {@code file} read-only and checks its header against its size. */
    public static Llama2cCheckpoint open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new Llama2cCheckpoint(file, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new ConfigException(file + ": llama2.c checkpoint not found");
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public int headSize() {
        return dim / nHeads;
    }

    private int header(int index, String name) {
        int v = data.get(ValueLayout.JAVA_INT_UNALIGNED, (long) index * Integer.BYTES);
        if (v <= 0) {
            throw bad("header field " + name + " is " + v + ", expected a positive integer");
        }
        return v;
    }

    private Tensor next(int... shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        Tensor t = Tensor.wrap(data.asSlice(cursor, n * 4), DType.F32, shape);
        cursor += n * 4;
        return t;
    }

    private ConfigException bad(String problem) {
        return new ConfigException(file + ": not a legacy llama2.c checkpoint: " + problem);
    }

    @Override
    public void close() {
        arena.close();
    }
}
