package dev.lora4j.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Chat templates rendered exactly as transformers' apply_chat_template renders them
 * (tools/golden/make_chat_template_goldens.py): ChatML (Qwen2), Llama-3 and Mistral, with and
 * without a system message, one and several turns, with and without the generation prompt; and the
 * conversations a template refuses fail with the template's own message.
 */
class ChatTemplateGoldenTest {
    private static final Path GOLDEN = Paths.get("src/test/resources/golden/chat_templates");

    @ParameterizedTest
    @ValueSource(strings = {"chatml_qwen2", "llama3", "mistral"})
    void rendersAsTransformers(String name) throws Exception {
        ChatTemplate template = ChatTemplate.fromModelDirectory(GOLDEN.resolve(name)).orElseThrow();
        JsonNode expected = new ObjectMapper().readTree(GOLDEN.resolve(name).resolve("expected.json").toFile());
        for (JsonNode c : expected.get("cases")) {
            String rendered = template.render(messages(c.get("messages")), c.get("add_generation_prompt").asBoolean());
            assertThat(rendered).as("%s %s, generation prompt %s", name, c.get("name").asText(),
                    c.get("add_generation_prompt").asBoolean()).isEqualTo(c.get("text").asText());
        }
        for (JsonNode r : expected.get("refused")) {
            assertThatThrownBy(() -> template.render(messages(r.get("messages")), false))
                    .as("%s refuses %s", name, r.get("name").asText())
                    .isInstanceOf(ChatTemplateException.class)
                    .hasMessageContaining(r.get("error").asText());
        }
    }

    private static List<ChatMessage> messages(JsonNode array) {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : array) {
            out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        return out;
    }
}
