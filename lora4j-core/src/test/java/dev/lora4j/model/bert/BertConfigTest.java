package dev.lora4j.model.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.model.ConfigException;
import dev.lora4j.nn.TokenBatch;
import java.util.List;
import org.junit.jupiter.api.Test;

class BertConfigTest {
    private static final String BASE = "\"vocab_size\": 10, \"hidden_size\": 8, \"num_hidden_layers\": 1, "
            + "\"num_attention_heads\": 2, \"intermediate_size\": 16";

    @Test
    void labelsFromId2LabelInIndexOrderElseNumLabels() {
        BertConfig c = BertConfig.parse("{\"model_type\": \"bert\", " + BASE
                + ", \"id2label\": {\"1\": \"positive\", \"0\": \"negative\"}}", "c.json");
        assertThat(c.labels()).containsExactly("negative", "positive");
        assertThat(c.layerNormEps()).isEqualTo(1e-12);
        assertThat(BertConfig.parse("{\"model_type\": \"roberta\", " + BASE + ", \"num_labels\": 3}", "c.json").labels())
                .containsExactly("LABEL_0", "LABEL_1", "LABEL_2");
    }

    @Test
    void unsupportedVariantsAreClearErrors() {
        assertThatThrownBy(() -> BertConfig.parse("{\"model_type\": \"bert\", " + BASE
                + ", \"position_embedding_type\": \"relative_key\"}", "c.json"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("c.json").hasMessageContaining("position_embedding_type");
        assertThatThrownBy(() -> BertConfig.parse("{\"model_type\": \"bert\", " + BASE + ", \"hidden_act\": \"relu\"}", "c.json"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("hidden_act");
        assertThatThrownBy(() -> BertConfig.parse("{\"model_type\": \"gpt2\", " + BASE + "}", "c.json"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("model_type");
    }

    @Test
    void robertaPositionsCountFromPaddingIdx() {
        // transformers: create_position_ids_from_input_ids([[0, 5, 6, 2, 1, 1]], padding_idx=1) = [[2, 3, 4, 5, 1, 1]]
        TokenBatch b = TokenBatch.of(1, 6, new int[] {0, 5, 6, 2, 1, 1}, new int[] {1, 1, 1, 1, 0, 0}, null);
        assertThat(BertEmbeddings.robertaPositions(b, 1)).containsExactly(2, 3, 4, 5, 1, 1);
    }

    @Test
    void roberta_positionsBeyondTheTableAreAClearError() {
        BertConfig c = new BertConfig("tiny", "roberta", 20, 8, 1, 2, 16, 5, 1, 1e-5, "gelu", 1, List.of("a", "b"));
        var w = InMemoryWeights.random(c, new java.util.SplittableRandom(1));
        BertEncoder e = BertEncoder.build(c, new dev.lora4j.model.ModelWeights(w));
        assertThatThrownBy(() -> e.forward(TokenBatch.of(1, 4, new int[] {0, 5, 6, 2}, null, null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("position 5")
                .hasMessageContaining("padding_idx + 1 = 2");
    }
}
