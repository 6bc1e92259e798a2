package dev.lora4j.model.llama2c;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.model.ConfigException;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Converts a llama2.c checkpoint into a Hugging Face Llama directory ({@code config.json},
 * {@code model.safetensors}, and the llama2.c tokenizer file copied alongside).
 *
 * <p>The one real change is RoPE's layout. llama2.c rotates interleaved pairs (x[2i], x[2i+1]) of
 * each head; Hugging Face's Llama rotates (x[i], x[i + head/2]) ("rotate half"). Permuting the rows
 * of wq and wk so that, within each head, output row 2i+c moves to c·head/2 + i makes the HF model
 * compute exactly the same attention scores — the same permutation as transformers'
 * convert_llama_weights_to_hf ({@code view(heads, head/2, 2, dim).transpose(1, 2)}). The rest is
 * renaming: w1 = gate_proj, w3 = up_proj, w2 = down_proj.
 *
 * <p>The output appears atomically: everything is written to a temporary sibling directory that is
 * renamed to {@code output} at the end.
 */
public final class Llama2cImport {
    /** llama2.c's RMSNorm epsilon and RoPE base; the freq_cis tables in the file are checked against the latter. */
    static final double RMS_NORM_EPS = 1e-5;
    static final double ROPE_THETA = 10000.0;

    private Llama2cImport() {}

    /** Summary of what was imported. */
    public record Result(Path output, int dim, int layers, int heads, int kvHeads, int vocab, int seqLen,
                         boolean tied, long parameters) {}

    public static Result convert(Path checkpoint, Path tokenizer, Path output) throws IOException {
        if (Files.exists(output)) {
            throw new ConfigException(output + ": output directory already exists; choose a new path");
        }
        Path parent = output.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(checkpoint)) {
            checkRopeTables(ck);
            checkTokenizer(tokenizer, ck.vocabSize);
            Map<String, Tensor> tensors = hfTensors(ck);
            long params = 0;
            for (Tensor t : tensors.values()) {
                params += t.numel();
            }
            Path tmp = Files.createTempDirectory(parent, "." + output.getFileName() + ".tmp-");
            try {
                SafetensorsWriter.write(tmp.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
                Files.writeString(tmp.resolve("config.json"), configJson(ck));
                Files.copy(tokenizer, tmp.resolve(tokenizer.getFileName()));
                makeReadable(tmp);
                dev.lora4j.io.AtomicFile.shareable(tmp);
                Files.move(tmp, output, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                deleteRecursively(tmp);
                throw e;
            }
            return new Result(output, ck.dim, ck.nLayers, ck.nHeads, ck.nKvHeads, ck.vocabSize, ck.seqLen,
                    ck.sharedClassifier, params);
        }
    }

    /** The HF Llama state dict: views of the mapped file, except wq and wk, which are permuted copies. */
    static Map<String, Tensor> hfTensors(Llama2cCheckpoint ck) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", ck.tokenEmbedding);
        for (int l = 0; l < ck.nLayers; l++) {
            String p = "model.layers." + l + ".";
            m.put(p + "input_layernorm.weight", ck.rmsAtt.select(0, l));
            m.put(p + "self_attn.q_proj.weight", interleavedToRotateHalf(ck.wq.select(0, l), ck.nHeads));
            m.put(p + "self_attn.k_proj.weight", interleavedToRotateHalf(ck.wk.select(0, l), ck.nKvHeads));
            m.put(p + "self_attn.v_proj.weight", ck.wv.select(0, l));
            m.put(p + "self_attn.o_proj.weight", ck.wo.select(0, l));
            m.put(p + "post_attention_layernorm.weight", ck.rmsFfn.select(0, l));
            m.put(p + "mlp.gate_proj.weight", ck.w1.select(0, l));
            m.put(p + "mlp.down_proj.weight", ck.w2.select(0, l));
            m.put(p + "mlp.up_proj.weight", ck.w3.select(0, l));
        }
        m.put("model.norm.weight", ck.rmsFinal);
        if (!ck.sharedClassifier) {
            m.put("lm_head.weight", ck.classifier);
        }
        return m;
    }

    /**
     * Rows of a q or k projection [heads·head, in], reordered within each head from llama2.c's
     * interleaved pairs to HF's halves: new row c·(head/2) + i = old row 2i + c.
     */
    public static Tensor interleavedToRotateHalf(Tensor w, int heads) {
        int rows = w.dim(0);
        int cols = w.dim(1);
        int head = rows / heads;
        int half = head / 2;
        Tensor out = Tensor.zeros(rows, cols);
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int c = 0; c < 2; c++) {
                    out.select(0, h * head + c * half + i).copyFrom(w.select(0, h * head + 2 * i + c));
                }
            }
        }
        return out;
    }

    /** freq_cis must be cos/sin(pos · θ^(−2i/head)) with θ = 10000, which is what config.json will say. */
    static void checkRopeTables(Llama2cCheckpoint ck) {
        int half = ck.headSize() / 2;
        int positions = Math.min(ck.seqLen, 64);
        for (int pos = 0; pos < positions; pos++) {
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(ROPE_THETA, -2.0 * i / ck.headSize());
                double re = ck.freqCisReal.get(pos, i);
                double im = ck.freqCisImag.get(pos, i);
                // float32 tables of cos/sin computed in float32 by PyTorch: 1e-4 allows for that rounding
                if (Math.abs(re - Math.cos(angle)) > 1e-4 || Math.abs(im - Math.sin(angle)) > 1e-4) {
                    throw new ConfigException(ck.file + ": freq_cis tables do not match RoPE with theta " + ROPE_THETA
                            + " at position " + pos + ", frequency " + i + " (cos " + re + ", expected " + Math.cos(angle) + ")");
                }
            }
        }
    }

    /**
     * The llama2.c tokenizer file: int32 max_token_length, then per token a float32 score, an int32
     * byte length and the bytes. Only its structure is checked here (it must hold exactly the
     * checkpoint's vocabulary); reading it as a tokenizer is the tokenizer package's job.
     */
    static void checkTokenizer(Path tokenizer, int vocabSize) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizer);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(tokenizer + ": tokenizer file not found");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) {
            throw new ConfigException(tokenizer + ": not a llama2.c tokenizer: shorter than its 4-byte header");
        }
        b.getInt();
        for (int i = 0; i < vocabSize; i++) {
            if (b.remaining() < 8) {
                throw new ConfigException(tokenizer + ": llama2.c tokenizer ends after " + i + " tokens; the checkpoint has "
                        + vocabSize);
            }
            b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new ConfigException(tokenizer + ": token " + i + " has length " + len + ", past the end of the file");
            }
            b.position(b.position() + len);
        }
        if (b.hasRemaining()) {
            throw new ConfigException(tokenizer + ": llama2.c tokenizer has " + b.remaining()
                    + " bytes after the checkpoint's " + vocabSize + " tokens (vocabulary size mismatch)");
        }
    }

    static String configJson(Llama2cCheckpoint ck) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", ck.vocabSize);
        c.put("hidden_size", ck.dim);
        c.put("intermediate_size", ck.hiddenDim);
        c.put("num_hidden_layers", ck.nLayers);
        c.put("num_attention_heads", ck.nHeads);
        c.put("num_key_value_heads", ck.nKvHeads);
        c.put("head_dim", ck.headSize());
        c.put("max_position_embeddings", ck.seqLen);
        c.put("hidden_act", "silu");
        c.put("rms_norm_eps", RMS_NORM_EPS);
        c.put("rope_theta", ROPE_THETA);
        c.put("tie_word_embeddings", ck.sharedClassifier);
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("torch_dtype", "float32");
        return json.writeValueAsString(c) + "\n";
    }

    /** The temporary directory (and files) are created private; give the result ordinary permissions. */
    private static void makeReadable(Path dir) throws IOException {
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort: a leftover hidden temp directory is harmless
        }
    }
}
