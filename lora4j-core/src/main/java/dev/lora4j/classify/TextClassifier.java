package dev.lora4j.classify;

import dev.lora4j.generate.LogitsProcessors;
import dev.lora4j.model.bert.Pooling;
import dev.lora4j.model.bert.SequenceClassifier;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import dev.lora4j.tokenizer.Tokenizer;
import dev.lora4j.train.TextData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * An encoder with a classification head plus the tokenizer that feeds it: text in, class out.
 * Texts are encoded as the tokenizer's post-processor says ({@code [CLS] ... [SEP]} for BERT) and cut
 * to {@code maxLength} tokens keeping the final special token, as transformers' truncation does.
 */
public final class TextClassifier implements AutoCloseable {
    private final Path modelDir;
    private final SequenceClassifier model;
    private final Tokenizer tokenizer;
    private final int maxLength;
    private final List<String> labels;

    private TextClassifier(Path modelDir, SequenceClassifier model, Tokenizer tokenizer, int maxLength) {
        this.modelDir = modelDir;
        this.model = model;
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.labels = model.config().labels();
    }

    /** The model in {@code modelDir} (which must hold tokenizer.json) with a head over {@code labels}. */
    public static TextClassifier load(Path modelDir, Pooling pooling, List<String> labels, int maxLength, long seed)
            throws IOException {
        if (maxLength < 3) {
            throw new IllegalArgumentException("--seq-len must be at least 3 (two special tokens and one word), got " + maxLength);
        }
        if (!Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            throw new IOException(modelDir + ": no tokenizer.json beside the model; text classification needs it");
        }
        Tokenizer tokenizer = TextData.modelTokenizer(modelDir);
        SequenceClassifier model = SequenceClassifier.load(modelDir, pooling, labels, seed);
        int positions = model.config().maxPositions();
        return new TextClassifier(modelDir, model, tokenizer, Math.min(maxLength, positions));
    }

    /** A classifier over an already loaded model (tests feed token ids directly; the tokenizer may be null). */
    static TextClassifier of(Path modelDir, SequenceClassifier model, Tokenizer tokenizerOrNull, int maxLength) {
        return new TextClassifier(modelDir, model, tokenizerOrNull, maxLength);
    }

    /**
     * CLS for what transformers' heads read (RoBERTa's two-layer head; BERT with its pooler), mean
     * pooling for a BERT checkpoint without a pooler (sentence-transformers exports such as MiniLM,
     * whose pooler transformers would initialize randomly).
     */
    public static Pooling defaultPooling(Path modelDir) throws IOException {
        String type = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(modelDir.resolve("config.json").toFile()).path("model_type").asText("");
        if (type.equals("roberta")) {
            return Pooling.CLS;
        }
        try (var source = dev.lora4j.io.safetensors.Checkpoints.open(modelDir)) {
            return source.contains("pooler.dense.weight") || source.contains("bert.pooler.dense.weight")
                    ? Pooling.CLS : Pooling.MEAN;
        }
    }

    public Path modelDir() {
        return modelDir;
    }

    public SequenceClassifier model() {
        return model;
    }

    public List<String> labels() {
        return labels;
    }

    public int maxLength() {
        return maxLength;
    }

    /** Token ids of one text, special tokens included, at most {@link #maxLength()} long. */
    public int[] encode(String text) {
        int[] ids = tokenizer.encode(text, true);
        if (ids.length <= maxLength) {
            return ids;
        }
        int[] cut = java.util.Arrays.copyOf(ids, maxLength);
        cut[maxLength - 1] = ids[ids.length - 1];   // keep [SEP] / </s>
        return cut;
    }

    public int[][] encodeAll(List<String> texts) {
        int[][] out = new int[texts.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = encode(texts.get(i));
        }
        return out;
    }

    /** Right-padded batch of already encoded sequences. */
    public TokenBatch batch(List<int[]> sequences) {
        return TokenBatch.rightPadded(sequences, model.config().padTokenId());
    }

    /**
     * Logits [n, numLabels] of encoded sequences, {@code batchSize} at a time (no gradients kept).
     * Batches are formed in order of length so that little work goes into padding; results come back
     * in the input order. (Each row's logits do not depend on its batch: padding is masked out.)
     */
    public float[][] logits(int[][] encoded, int batchSize, IntConsumer progressOrNull) {
        Integer[] byLength = new Integer[encoded.length];
        for (int i = 0; i < byLength.length; i++) {
            byLength[i] = i;
        }
        java.util.Arrays.sort(byLength, java.util.Comparator.comparingInt(i -> encoded[i].length));
        float[][] out = new float[encoded.length][];
        for (int start = 0; start < encoded.length; start += batchSize) {
            int end = Math.min(encoded.length, start + batchSize);
            List<int[]> seqs = new ArrayList<>(end - start);
            for (int i = start; i < end; i++) {
                seqs.add(encoded[byLength[i]]);
            }
            Tensor logits = model.forward(batch(seqs));
            for (int i = start; i < end; i++) {
                out[byLength[i]] = logits.select(0, i - start).toFloatArray();
            }
            if (progressOrNull != null) {
                progressOrNull.accept(end);
            }
        }
        return out;
    }

    /** Accuracy, macro-F1 and confusion matrix on {@code data}, whose labels must be this classifier's. */
    public ClassificationMetrics evaluate(LabeledDataset data, int batchSize, IntConsumer progressOrNull) {
        checkLabels(data);
        float[][] logits = logits(encodeAll(data.texts()), batchSize, progressOrNull);
        int[] predicted = new int[logits.length];
        for (int i = 0; i < logits.length; i++) {
            predicted[i] = LogitsProcessors.argmax(logits[i]);
        }
        return ClassificationMetrics.of(labels, data.labels(), predicted);
    }

    /** Data labelled with other class names (or another count) would be scored against the wrong classes. */
    public void checkLabels(LabeledDataset data) {
        if (!data.labelNames().equals(labels)) {
            throw new IllegalArgumentException(data.source() + ": classes " + data.labelNames()
                    + " differ from the classifier's " + labels + " (give the same --labels)");
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
