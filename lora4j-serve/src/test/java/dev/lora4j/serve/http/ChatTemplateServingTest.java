package dev.lora4j.serve.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.GenerationListener;
import dev.lora4j.generate.Generator;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.serve.ServedModel;
import dev.lora4j.serve.ServerOptions;
import dev.lora4j.serve.api.Json;
import dev.lora4j.serve.engine.EngineOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model with a chat template in its tokenizer_config.json: the server renders the messages with
 * it (no BOS added, the template writes its own), and a template's raise_exception is a 400 in the
 * template's words, without the server's file paths. Served without API keys, as a local user runs it.
 */
class ChatTemplateServingTest {
    private static final String TEMPLATE = "{% for m in messages %}"
            + "{% if loop.index0 > 0 and (m['role'] == 'user') == (messages[loop.index0 - 1]['role'] == 'user') %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

    @Test
    void chatRendersTheModelsTemplateAndReportsItsRefusals(@TempDir Path dir) throws Exception {
        Path model = TestServer.prepare(dir).resolveSibling("chatty");
        TestServer.copyDir(dir.resolve(TestServer.BASE), model);
        Files.writeString(model.resolve("tokenizer_config.json"), Json.MAPPER.writeValueAsString(Map.of("chat_template", TEMPLATE)));
        try (ServedModel served = ServedModel.load(model, EngineOptions.defaults(), null)) {
            OpenAiServer server = OpenAiServer.start(served, ServerOptions.defaults().withAddress("127.0.0.1", 0), null);
            try {
                HttpClient http = HttpClient.newHttpClient();
                HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/chat/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"chatty\", \"max_tokens\": 24, \"messages\": ["
                                + "{\"role\": \"system\", \"content\": \"Tell a story.\"}, {\"role\": \"user\", \"content\": \"Hello Lily\"}]}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
                int[] prompt = served.tokenizer().encode("system: Tell a story.\nuser: Hello Lily\nassistant:", false);
                String expected;
                try (CausalLM alone = Models.load(model)) {
                    expected = new Generator(alone, served.tokenizer()).generate(prompt,
                            GenerationConfig.greedy(24).withStopTokens(served.stopTokens()), GenerationListener.NONE).text();
                }
                JsonNode body = Json.MAPPER.readTree(ok.body());
                assertThat(body.at("/choices/0/message/content").asText()).isEqualTo(expected).isNotBlank();
                assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(prompt.length);

                HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/chat/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"chatty\", \"messages\": ["
                                + "{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", \"content\": \"b\"}]}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                JsonNode e = BadInputTest.error(refused, 400);
                assertThat(e.get("param").asText()).isEqualTo("messages");
                assertThat(e.get("message").asText()).isEqualTo("the model's chat template refused the messages: "
                        + "Conversation roles must alternate user/assistant/user/assistant/...");
                assertThat(refused.body()).doesNotContain(dir.toString());
            } finally {
                server.close();
            }
        }
    }

    @Test
    void withoutKeysOnlyLoopbackIsAllowed() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OpenAiServer.checkBinding("0.0.0.0", false))
                .hasMessageContaining("refusing to listen on 0.0.0.0 without API keys").hasMessageContaining("--api-keys");
        OpenAiServer.checkBinding("0.0.0.0", true);
        OpenAiServer.checkBinding("127.0.0.1", false);
        OpenAiServer.checkBinding("localhost", false);
        OpenAiServer.checkBinding("::1", false);
    }
}
