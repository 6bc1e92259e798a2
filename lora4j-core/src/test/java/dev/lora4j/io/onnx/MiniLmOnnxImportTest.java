package dev.lora4j.io.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.lora4j.model.bert.BertConfig;
import dev.lora4j.model.bert.BertEncoder;
import dev.lora4j.model.bert.Encoders;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 from the langchain4j Maven artifact: imported from ONNX into a Hugging Face
 * checkpoint, loaded like any HF BERT, and run by lora4j; ONNX Runtime runs the very same .onnx file
 * as the oracle. The last hidden states of a padded batch of sentences of different lengths (one a
 * sentence pair with token types 1) must agree at every real token.
 *
 * <p>Token ids: the MiniLM tokenizer.json run by Python {@code tokenizers} 0.x on the sentences in the
 * comments (hard-coded so this test checks the model, not the tokenizer).
 *
 * <p>Tolerance 1e-4 absolute on hidden states of magnitude up to ~10 (typical ~0.5): both compute in
 * float32, through 6 layers of width 384/1536 with different summation orders and ORT's fused
 * kernels; a few ulps per layer, amplified by post-norm LayerNorms. Measured worst: see the message.
 */
class MiniLmOnnxImportTest {
    private static final double TOLERANCE = 1e-4;

    private static final List<int[]> SENTENCES = List.of(
            // "The movie was absolutely wonderful!"
            new int[] {101, 1996, 3185, 2001, 7078, 6919, 999, 102},
            // "I did not like it."
            new int[] {101, 1045, 2106, 2025, 2066, 2009, 1012, 102},
            // "lora4j fine-tunes transformers on the JVM, in pure Java; no native code, no Python."
            new int[] {101, 8840, 2527, 2549, 3501, 2986, 1011, 13281, 19081, 2006, 1996, 1046, 2615, 2213, 1010, 1999,
                    5760, 9262, 1025, 2053, 3128, 3642, 1010, 2053, 18750, 1012, 102},
            // "Hello"
            new int[] {101, 7592, 102},
            // pair: "I did not like it." [SEP] "Hello" — the second segment has token type 1
            new int[] {101, 1045, 2106, 2025, 2066, 2009, 1012, 102, 7592, 102});

    @Test
    void hiddenStatesMatchOnnxRuntime(@TempDir Path tmp) throws Exception {
        Path modelDir = tmp.resolve("minilm");
        OnnxBertImport.importMiniLmFromClasspath(modelDir);
        assertThat(modelDir.resolve("tokenizer.json")).exists();

        TokenBatch batch = TokenBatch.rightPadded(SENTENCES, 0);
        int b = batch.batchSize();
        int t = batch.seqLen();
        int[] types = new int[b * t];
        for (int i = 8; i < SENTENCES.get(4).length; i++) {
            types[4 * t + i] = 1;
        }

        Tensor hidden;
        try (BertEncoder encoder = Encoders.load(modelDir)) {
            BertConfig c = encoder.config();
            assertThat(List.of(c.hiddenSize(), c.numHeads(), c.numLayers(), c.intermediateSize(), c.vocabSize(),
                    c.maxPositions(), c.typeVocabSize())).containsExactly(384, 12, 6, 1536, 30522, 512, 2);
            assertThat(c.layerNormEps()).isEqualTo(1e-12);
            assertThat(c.hiddenAct()).isEqualTo("gelu");
            assertThat(encoder.linears()).hasSize(36);
            hidden = encoder.forward(batch, types);
        }

        float[][][] expected = runOnnxRuntime(tmp, batch, types);
        double worst = 0;
        double largest = 0;
        for (int s = 0; s < b; s++) {
            for (int i = 0; i < SENTENCES.get(s).length; i++) {
                for (int c = 0; c < 384; c++) {
                    worst = Math.max(worst, Math.abs(hidden.get(s * t + i, c) - expected[s][i][c]));
                    largest = Math.max(largest, Math.abs(expected[s][i][c]));
                }
            }
        }
        System.out.printf("MiniLM vs ONNX Runtime: max |difference| %.3g over hidden states up to %.3g%n", worst, largest);
        assertThat(largest).as("hidden states are not trivially small").isGreaterThan(1);
        assertThat(worst).as("max |hidden state difference| vs ONNX Runtime").isLessThan(TOLERANCE);
    }

    private static float[][][] runOnnxRuntime(Path tmp, TokenBatch batch, int[] types) throws Exception {
        Path onnx = OnnxBertImport.extractResource(OnnxBertImport.MINILM_ONNX_RESOURCE, Files.createDirectories(tmp.resolve("ort")));
        int b = batch.batchSize();
        int t = batch.seqLen();
        long[][] ids = new long[b][t];
        long[][] mask = new long[b][t];
        long[][] typeIds = new long[b][t];
        for (int s = 0; s < b; s++) {
            for (int i = 0; i < t; i++) {
                ids[s][i] = batch.tokenIds()[s * t + i];
                mask[s][i] = batch.attentionMask()[s * t + i];
                typeIds[s][i] = types[s * t + i];
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(onnx.toString(), options);
                 var idsTensor = ai.onnxruntime.OnnxTensor.createTensor(env, ids);
                 var maskTensor = ai.onnxruntime.OnnxTensor.createTensor(env, mask);
                 var typesTensor = ai.onnxruntime.OnnxTensor.createTensor(env, typeIds);
                 OrtSession.Result result = session.run(Map.of("input_ids", idsTensor, "attention_mask", maskTensor,
                         "token_type_ids", typesTensor))) {
                return (float[][][]) result.get("last_hidden_state").orElseThrow().getValue();
            }
        }
    }
}
