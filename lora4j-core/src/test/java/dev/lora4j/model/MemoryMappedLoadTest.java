package dev.lora4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening a 1.1 GB BF16 Llama checkpoint and building the model over it must not read the weights:
 * resident memory grows by far less than the file (the tensors are views of a memory mapping that
 * the kernels page in when they first touch them). The checkpoint is a sparse file (a real header,
 * then holes), so the test costs no disk space or time. Linux only (reads /proc/self/status).
 *
 * <p>Measured once by hand on the 2-core dev machine: VmRSS changed by −31 MiB across
 * {@code Models.load} (a GC ran), and grew by +1029 MiB after one forward pass of a single token,
 * which touches every weight — so the bound below does detect weights being read.
 */
class MemoryMappedLoadTest {

    @Test
    void loadingDoesNotReadTheWeights(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isReadable(Paths.get("/proc/self/status")), "needs Linux /proc");
        int hidden = 2048;
        int inter = 5632;
        int layers = 8;
        int vocab = 32000;
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.put("model_type", "llama");
        config.put("vocab_size", vocab);
        config.put("hidden_size", hidden);
        config.put("intermediate_size", inter);
        config.put("num_hidden_layers", layers);
        config.put("num_attention_heads", 16);
        config.put("tie_word_embeddings", false);
        Files.writeString(tmp.resolve("config.json"), config.toString());

        List<Object[]> tensors = new ArrayList<>();  // name, shape
        tensors.add(new Object[] {"model.embed_tokens.weight", new int[] {vocab, hidden}});
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            tensors.add(new Object[] {p + "input_layernorm.weight", new int[] {hidden}});
            tensors.add(new Object[] {p + "post_attention_layernorm.weight", new int[] {hidden}});
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) {
                tensors.add(new Object[] {p + "self_attn." + proj + ".weight", new int[] {hidden, hidden}});
            }
            tensors.add(new Object[] {p + "mlp.gate_proj.weight", new int[] {inter, hidden}});
            tensors.add(new Object[] {p + "mlp.up_proj.weight", new int[] {inter, hidden}});
            tensors.add(new Object[] {p + "mlp.down_proj.weight", new int[] {hidden, inter}});
        }
        tensors.add(new Object[] {"model.norm.weight", new int[] {hidden}});
        tensors.add(new Object[] {"lm_head.weight", new int[] {vocab, hidden}});
        long dataBytes = writeSparseSafetensors(tmp.resolve("model.safetensors"), tensors);
        assertThat(dataBytes).isGreaterThan(1L << 30);

        System.gc();
        long before = residentBytes();
        try (CausalLM model = Models.load(tmp)) {
            long after = residentBytes();
            assertThat(model.linears()).hasSize(7 * layers + 1);
            // 64 MiB covers class loading and the model objects; reading the weights would be > 1 GiB.
            assertThat(after - before).as("resident growth in bytes while loading %d bytes of weights", dataBytes)
                    .isLessThan(64L << 20);
        }
    }

    /** A safetensors file of BF16 tensors whose data region is left as a hole (reads as zeros). */
    private static long writeSparseSafetensors(Path file, List<Object[]> tensors) throws Exception {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (int i = 0; i < tensors.size(); i++) {
            String name = (String) tensors.get(i)[0];
            int[] shape = (int[]) tensors.get(i)[1];
            long bytes = 2;
            StringBuilder dims = new StringBuilder();
            for (int d = 0; d < shape.length; d++) {
                bytes *= shape[d];
                dims.append(d == 0 ? "" : ",").append(shape[d]);
            }
            header.append(i == 0 ? "" : ",").append('"').append(name).append("\":{\"dtype\":\"BF16\",\"shape\":[")
                    .append(dims).append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append('}');
        while ((header.length() + 8) % 8 != 0) {
            header.append(' ');
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.setLength(8 + h.length + offset);  // the data stays a hole: no disk blocks, no writes
        }
        return offset;
    }

    private static long residentBytes() throws Exception {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
