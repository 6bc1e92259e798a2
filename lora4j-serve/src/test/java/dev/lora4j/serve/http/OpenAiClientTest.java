package dev.lora4j.serve.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import dev.lora4j.chat.ChatMessage;
import dev.lora4j.chat.PlainTranscript;
import dev.lora4j.generate.PromptIds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server driven by the official OpenAI Java SDK, as users' code would drive it: completions and
 * chat completions (whole and streamed) whose greedy text equals {@code lora4j generate}'s for the
 * same prompt and adapter, usage and finish_reason, seeded sampling, the model list per tenant, and
 * the errors the SDK turns into its exceptions.
 */
class OpenAiClientTest {
    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey(key).maxRetries(0)
                .timeout(Duration.ofSeconds(60)).build();
    }

    private static int[] ids(String prompt) {
        return PromptIds.encode(server.model.tokenizer(), prompt);
    }

    @Test
    void completionOnTheBaseEqualsGenerateWithUsageAndLength() throws Exception {
        Completion c = client(TestServer.ADMIN).completions().create(CompletionCreateParams.builder()
                .model(TestServer.BASE).prompt("Once upon a time").maxTokens(30).temperature(0.0).build());
        String expected = server.reference(null, ids("Once upon a time"), 30, List.of());
        assertThat(c.choices()).hasSize(1);
        assertThat(c.choices().get(0).text()).isEqualTo(expected).isNotBlank();
        assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("length");
        assertThat(c.usage()).hasValueSatisfying(u -> {
            assertThat(u.promptTokens()).isEqualTo(ids("Once upon a time").length);
            assertThat(u.completionTokens()).isEqualTo(30);
            assertThat(u.totalTokens()).isEqualTo(u.promptTokens() + 30);
        });
        assertThat(c.model()).isEqualTo(TestServer.BASE);
    }

    @Test
    void completionWithAnAdapterEqualsGenerateWithThatAdapterAndDiffersFromTheBase() throws Exception {
        OpenAIClient client = client(TestServer.TENANT_A);
        String prompt = "The little dog";
        String adapted = client.completions().create(CompletionCreateParams.builder().model("adapter1").prompt(prompt)
                .maxTokens(24).build()).choices().get(0).text();
        assertThat(adapted).isEqualTo(server.reference("adapter1", ids(prompt), 24, List.of()));
        assertThat(adapted).isNotEqualTo(server.reference(null, ids(prompt), 24, List.of()));
    }

    @Test
    void stopStringEndsTheTextWithFinishReasonStop() throws Exception {
        String full = server.reference(null, ids("Once upon a time"), 40, List.of());
        String stop = full.substring(10, 14);
        Completion c = client(TestServer.ADMIN).completions().create(CompletionCreateParams.builder()
                .model(TestServer.BASE).prompt("Once upon a time").maxTokens(40).stop(stop).build());
        assertThat(c.choices().get(0).text()).isEqualTo(full.substring(0, full.indexOf(stop)));
        assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("stop");
    }

    @Test
    void chatWithoutTemplateUsesThePlainTranscriptAndEqualsGenerate() throws Exception {
        ChatCompletion c = client(TestServer.TENANT_A).chat().completions().create(ChatCompletionCreateParams.builder()
                .model("adapter0").addSystemMessage("Tell a story.").addUserMessage("Hello Lily").maxCompletionTokens(40)
                .temperature(0.0).build());
        int[] prompt = ids(PlainTranscript.render(List.of(ChatMessage.system("Tell a story."), ChatMessage.user("Hello Lily"))));
        String expected = server.reference("adapter0", prompt, 40, List.of(PlainTranscript.STOP));
        assertThat(c.choices().get(0).message().content()).hasValue(expected);
        assertThat(c.choices().get(0).message()._role().convert(String.class)).isEqualTo("assistant");
        assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(prompt.length);
        assertThat(c._object_().convert(String.class)).isEqualTo("chat.completion");
    }

    @Test
    void streamedChatEqualsTheWholeAnswerAndEndsWithFinishReasonAndUsage() throws Exception {
        OpenAIClient client = client(TestServer.ADMIN);
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("adapter2")
                .addUserMessage("Where is the ball?").maxCompletionTokens(48).temperature(0.0)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        String whole = client.chat().completions().create(params).choices().get(0).message().content().orElseThrow();
        StringBuilder streamed = new StringBuilder();
        List<String> finishReasons = new ArrayList<>();
        List<Long> completionTokens = new ArrayList<>();
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                chunks++;
                for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                    choice.delta().content().ifPresent(streamed::append);
                    choice.finishReason().ifPresent(r -> finishReasons.add(r.asString()));
                }
                chunk.usage().ifPresent(u -> completionTokens.add(u.completionTokens()));
            }
        }
        assertThat(streamed.toString()).isEqualTo(whole).isNotEmpty();
        assertThat(chunks).isGreaterThan(3);
        assertThat(finishReasons).hasSize(1).first().isIn("stop", "length");
        assertThat(completionTokens).hasSize(1);
    }

    @Test
    void streamedCompletionEqualsGenerate() throws Exception {
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> stream = client(TestServer.ADMIN).completions().createStreaming(
                CompletionCreateParams.builder().model("adapter3").prompt("One day").maxTokens(32).build())) {
            stream.stream().forEach(c -> c.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertThat(streamed.toString()).isEqualTo(server.reference("adapter3", ids("One day"), 32, List.of()));
    }

    @Test
    void aSeedReproducesASampledCompletion() {
        OpenAIClient client = client(TestServer.ADMIN);
        CompletionCreateParams params = CompletionCreateParams.builder().model(TestServer.BASE).prompt("Tom")
                .maxTokens(40).temperature(1.0).topP(0.95).seed(42).build();
        String first = client.completions().create(params).choices().get(0).text();
        String second = client.completions().create(params).choices().get(0).text();
        String otherSeed = client.completions().create(params.toBuilder().seed(43).build()).choices().get(0).text();
        assertThat(second).isEqualTo(first);
        assertThat(otherSeed).isNotEqualTo(first);
    }

    @Test
    void modelListShowsTheBaseAndOnlyTheCallersAdapters() {
        assertThat(client(TestServer.ADMIN).models().list().data().stream().map(Model::id))
                .containsExactly(TestServer.BASE, "adapter0", "adapter1", "adapter2", "adapter3");
        assertThat(client(TestServer.TENANT_A).models().list().data().stream().map(Model::id))
                .containsExactly(TestServer.BASE, "adapter0", "adapter1");
        assertThat(client(TestServer.TENANT_B).models().retrieve("adapter2").id()).isEqualTo("adapter2");
        assertThat(catchThrowableOfType(NotFoundException.class, () -> client(TestServer.TENANT_B).models().retrieve("adapter0")))
                .isNotNull();
    }

    @Test
    void anotherTenantsAdapterAnswersExactlyAsOneThatDoesNotExist() {
        CompletionCreateParams.Builder p = CompletionCreateParams.builder().prompt("x").maxTokens(2);
        NotFoundException foreign = catchThrowableOfType(NotFoundException.class,
                () -> client(TestServer.TENANT_B).completions().create(p.model("adapter0").build()));
        NotFoundException missing = catchThrowableOfType(NotFoundException.class,
                () -> client(TestServer.TENANT_B).completions().create(p.model("adapter9").build()));
        assertThat(foreign.statusCode()).isEqualTo(404);
        assertThat(foreign.code()).hasValue("model_not_found");
        assertThat(foreign.param()).hasValue("model");
        assertThat(foreign.getMessage().replace("adapter0", "NAME")).isEqualTo(missing.getMessage().replace("adapter9", "NAME"));
    }

    @Test
    void wrongKeyIsUnauthorizedAndTooManyTokensIsABadRequestNamingTheNumbers() {
        UnauthorizedException bad = catchThrowableOfType(UnauthorizedException.class, () -> client("not-a-key-at-all-0000")
                .completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt("x").maxTokens(2).build()));
        assertThat(bad.statusCode()).isEqualTo(401);
        assertThat(bad.getMessage()).contains("Incorrect API key").doesNotContain("not-a-key-at-all");

        int context = server.model.engine().config().maxPositions();
        BadRequestException tooLong = catchThrowableOfType(BadRequestException.class, () -> client(TestServer.ADMIN)
                .completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt("Once upon a time")
                        .maxTokens(context).build()));
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(tooLong.code()).hasValue("context_length_exceeded");
        assertThat(tooLong.getMessage()).contains("maximum context length is " + context + " tokens")
                .contains(ids("Once upon a time").length + " in the prompt").contains(context + " for the completion");
    }
}
