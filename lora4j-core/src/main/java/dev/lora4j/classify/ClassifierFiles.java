package dev.lora4j.classify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.io.AtomicFile;
import dev.lora4j.io.safetensors.Checkpoints;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.io.safetensors.WeightSource;
import dev.lora4j.lora.AdapterConfigJson;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.bert.Pooling;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Trained classifiers on disk.
 *
 * <p><b>LoRA</b>: a PEFT adapter directory, loadable by {@code PeftModel.from_pretrained} on a
 * {@code BertForSequenceClassification} of the base model: {@code adapter_config.json} (task_type
 * SEQ_CLS, modules_to_save [classifier]) and {@code adapter_model.safetensors} with
 * {@code base_model.model.<module>.lora_A.weight}/{@code lora_B.weight} and the head as PEFT saves a
 * modules_to_save copy, under the module's own name: {@code base_model.model.classifier.weight},
 * {@code base_model.model.classifier.bias}.
 *
 * <p><b>Full fine-tuning</b>: a complete Hugging Face model directory (config.json with id2label,
 * model.safetensors with W + ΔW for every trained layer and the head as {@code classifier.*},
 * tokenizer.json).
 *
 * <p>Both get {@code classifier.json}: what PEFT's files leave out but a classifier needs to give the
 * same answers — the class names in index order, the pooling and the maximum sequence length.
 */
public final class ClassifierFiles {
    public static final String CLASSIFIER_JSON = "classifier.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ClassifierFiles() {}

    /** What classifier.json holds. */
    public record Settings(List<String> labels, Pooling pooling, int maxLength, String method) {}

    static void saveLora(LoraTuning t, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Parameter p : t.parameters()) {
            tensors.put(PeftAdapterFiles.peftName(p), p.valueTensor());
        }
        SafetensorsWriter.write(dir.resolve(PeftAdapterFiles.WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        AdapterConfigJson.write(t.config(), dir.resolve(AdapterConfigJson.FILE_NAME));
        writeSettings(t.classifier(), "lora", dir);
    }

    static void saveFull(FullTuning t, Path dir) throws IOException {
        Files.createDirectories(dir);
        TextClassifier c = t.classifier();
        Path base = c.modelDir();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (WeightSource source = Checkpoints.open(base)) {
            Set<String> trained = new TreeSet<>();
            for (Map.Entry<String, DenseDelta> e : t.deltas().entrySet()) {
                String stored = storedName(source, e.getKey());
                if (stored == null) {
                    continue;   // a layer that is not in the checkpoint (a freshly initialized pooler)
                }
                DenseDelta d = e.getValue();
                tensors.put(stored + ".weight", plus(source.tensor(stored + ".weight"), d.deltaWeight()));
                tensors.put(stored + ".bias", plus(source.tensor(stored + ".bias"), d.deltaBias()));
                trained.add(stored + ".weight");
                trained.add(stored + ".bias");
            }
            for (String name : source.names()) {
                if (!trained.contains(name) && source.info(name).dtype() != null && !name.startsWith("classifier.")) {
                    tensors.put(name, source.tensor(name));
                }
            }
            for (Parameter p : c.model().headParameters()) {
                tensors.put(p.name(), p.valueTensor());
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        }
        ObjectNode config = (ObjectNode) JSON.readTree(Files.readString(base.resolve("config.json")));
        ObjectNode id2label = config.putObject("id2label");
        ObjectNode label2id = config.putObject("label2id");
        for (int i = 0; i < c.labels().size(); i++) {
            id2label.put(Integer.toString(i), c.labels().get(i));
            label2id.put(c.labels().get(i), i);
        }
        String arch = c.model().config().isRoberta() ? "RobertaForSequenceClassification" : "BertForSequenceClassification";
        config.putArray("architectures").add(arch);
        AtomicFile.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config) + "\n");
        AtomicFile.writeBytes(dir.resolve("tokenizer.json"), Files.readAllBytes(base.resolve("tokenizer.json")));
        writeSettings(c, "full", dir);
    }

    /** The checkpoint's name for a module path (bert.encoder... or, in a bare BertModel, encoder...). */
    private static String storedName(WeightSource source, String modulePath) {
        if (source.contains(modulePath + ".weight")) {
            return modulePath;
        }
        String bare = modulePath.substring(modulePath.indexOf('.') + 1);
        return source.contains(bare + ".weight") ? bare : null;
    }

    private static Tensor plus(Tensor frozen, Parameter delta) {
        float[] v = frozen.toFloatArray();
        float[] d = delta.value();
        for (int i = 0; i < v.length; i++) {
            v[i] += d[i];
        }
        return Tensor.of(v, frozen.shape());
    }

    private static void writeSettings(TextClassifier c, String method, Path dir) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("method", method);
        o.putPOJO("labels", c.labels());
        o.put("pooling", c.model().pooling().name().toLowerCase(java.util.Locale.ROOT));
        o.put("max_length", c.maxLength());
        o.put("base_model", c.modelDir().toAbsolutePath().toString());
        AtomicFile.writeString(dir.resolve(CLASSIFIER_JSON), JSON.writeValueAsString(o) + "\n");
    }

    /** Reads classifier.json from {@code dir}, or null when there is none. */
    public static Settings readSettings(Path dir) throws IOException {
        Path file = dir.resolve(CLASSIFIER_JSON);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode o;
        try {
            o = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(file + ": malformed JSON: " + e.getOriginalMessage());
        }
        JsonNode labels = o.get("labels");
        if (labels == null || !labels.isArray() || labels.size() < 2) {
            throw new IOException(file + ": \"labels\" must list at least two class names");
        }
        List<String> names = new ArrayList<>();
        labels.forEach(n -> names.add(n.asText()));
        Pooling pooling;
        try {
            pooling = Pooling.valueOf(o.path("pooling").asText("cls").toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": unknown pooling '" + o.path("pooling").asText() + "' (cls or mean)");
        }
        return new Settings(names, pooling, o.path("max_length").asInt(512), o.path("method").asText("lora"));
    }

    /**
     * The classifier a {@code lora4j train --task classification} run produced: the base model in
     * {@code modelDir} with the LoRA adapter and head from {@code adapterDirOrNull}, or (adapter null) a
     * full fine-tuning output directory or any Hugging Face sequence-classification checkpoint.
     */
    public static TextClassifier open(Path modelDir, Path adapterDirOrNull, Integer maxLengthOrNull,
                                      Consumer<String> warnings) throws IOException {
        if (adapterDirOrNull == null) {
            Settings s = readSettings(modelDir);
            Pooling pooling = s != null ? s.pooling() : TextClassifier.defaultPooling(modelDir);
            int maxLength = maxLengthOrNull != null ? maxLengthOrNull : s != null ? s.maxLength() : 512;
            TextClassifier c = TextClassifier.load(modelDir, pooling, s != null ? s.labels() : null, maxLength, 0);
            if (!c.model().headFromCheckpoint()) {
                c.close();
                throw new IOException(modelDir + ": has no trained classification head (classifier.*); give the "
                        + "adapter directory that lora4j train wrote with --adapter");
            }
            return c;
        }
        if (!Files.isDirectory(adapterDirOrNull)) {
            throw new IOException(adapterDirOrNull + ": not an adapter directory");
        }
        Settings s = readSettings(adapterDirOrNull);
        if (s == null) {
            throw new IOException(adapterDirOrNull.resolve(CLASSIFIER_JSON) + ": not found; a classification adapter "
                    + "needs its class names and pooling (written by lora4j train --task classification)");
        }
        LoraConfig config = AdapterConfigJson.read(adapterDirOrNull.resolve(AdapterConfigJson.FILE_NAME), warnings);
        int maxLength = maxLengthOrNull != null ? maxLengthOrNull : s.maxLength();
        TextClassifier c = TextClassifier.load(modelDir, s.pooling(), s.labels(), maxLength, 0);
        try {
            loadWeights(LoraTuning.attachUninitialized(c, config), adapterDirOrNull.resolve(PeftAdapterFiles.WEIGHTS_FILE));
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Fills every LoRA and head parameter from the file; lists every missing, mis-shaped or non-finite tensor. */
    static void loadWeights(LoraTuning t, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": adapter weights not found");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            List<String> problems = new ArrayList<>();
            Set<String> expected = new TreeSet<>();
            for (Parameter p : t.parameters()) {
                String name = PeftAdapterFiles.peftName(p);
                expected.add(name);
                if (!f.contains(name)) {
                    problems.add(name + ": missing");
                    continue;
                }
                Tensor x = f.tensor(name);
                if (!Arrays.equals(x.shape(), p.shape())) {
                    problems.add(name + ": shape " + Arrays.toString(x.shape()) + " but this model needs "
                            + Arrays.toString(p.shape()));
                    continue;
                }
                float[] v = x.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    if (!Float.isFinite(v[i])) {
                        problems.add(name + ": non-finite value " + v[i] + " at element " + i);
                        break;
                    }
                }
                System.arraycopy(v, 0, p.value(), 0, v.length);
            }
            for (String name : f.names()) {
                if (!expected.contains(name)) {
                    problems.add(name + ": in the file but not part of this classifier");
                }
            }
            if (!problems.isEmpty()) {
                throw new IOException(file + ": adapter does not fit this model:\n  " + String.join("\n  ", problems));
            }
        }
    }
}
