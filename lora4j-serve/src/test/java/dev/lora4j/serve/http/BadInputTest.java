package dev.lora4j.serve.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lora4j.serve.api.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed and unwelcome requests over raw HTTP: each gets the right status and OpenAI's error
 * JSON naming the field, never a stack trace, and the server keeps answering well-formed requests.
 */
class BadInputTest {
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

    /** The error object of a response, after checking its status and shape. */
    static JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        JsonNode body = Json.MAPPER.readTree(r.body());
        JsonNode e = body.get("error");
        assertThat(e).as(r.body()).isNotNull();
        Iterator<String> fields = e.fieldNames();
        assertThat(fields).toIterable().containsExactly("message", "type", "param", "code");
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("at dev.lora4j").doesNotContain("at io.javalin");
        return e;
    }

    private static JsonNode completionError(String body, int status) throws Exception {
        return error(server.post("/v1/completions", TestServer.ADMIN, body), status);
    }

    @Test
    void invalidJsonSaysWhere() throws Exception {
        JsonNode e = completionError("{\"model\": \"stories260K\", \"prompt\": ", 400);
        assertThat(e.get("message").asText()).startsWith("invalid JSON in the request body (line 1");
        assertThat(completionError("[1, 2]", 400).get("message").asText()).contains("must be a JSON object, got an array");
        assertThat(completionError("", 400).get("message").asText()).contains("empty");
        assertThat(completionError("{\"model\": \"a\", \"model\": \"b\"}", 400).get("message").asText()).contains("Duplicate field");
        assertThat(completionError("{\"model\": \"stories260K\"} {}", 400).get("message").asText()).contains("invalid JSON");
    }

    @Test
    void wrongTypesAndRangesNameTheField() throws Exception {
        String[][] cases = {
            {"{\"model\": 5, \"prompt\": \"x\"}", "model", "model must be a string, got an integer"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"max_tokens\": \"ten\"}", "max_tokens", "must be an integer, got a string"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"max_tokens\": 2.5}", "max_tokens", "must be an integer, got a number"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"max_tokens\": 0}", "max_tokens", "must be between 1 and"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"temperature\": -1}", "temperature", "must be between 0.0 and 2.0"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"top_p\": 0}", "top_p", "greater than 0"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"stream\": \"yes\"}", "stream", "must be true or false"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"stop\": [\"a\", 3]}", "stop", "stop[1] must be a string"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"stop\": \"\"}", "stop", "must not be empty"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"seed\": 1e400}", "seed", "must be an integer"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"n\": 2}", "n", "not supported"},
            {"{\"model\": \"stories260K\", \"prompt\": [\"a\", \"b\"]}", "prompt", "one prompt per request"},
            {"{\"model\": \"stories260K\", \"prompt\": [1, 99999]}", "prompt", "prompt[1] is token id 99999"},
            {"{\"model\": \"stories260K\"}", "prompt", "you must provide `prompt`"},
            {"{\"prompt\": \"x\"}", "model", "you must provide `model`"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"max_token\": 5}", "max_token", "unknown field `max_token`"},
            {"{\"model\": \"stories260K\", \"prompt\": \"x\", \"max_tokens\": 100000}", "max_tokens", "at most 1024"},
        };
        for (String[] c : cases) {
            JsonNode e = completionError(c[0], 400);
            assertThat(e.get("param").asText()).as(c[0]).isEqualTo(c[1]);
            assertThat(e.get("message").asText()).as(c[0]).contains(c[2]);
            assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        }
    }

    @Test
    void chatMessagesAreCheckedFieldByField() throws Exception {
        String[][] cases = {
            {"{\"model\": \"stories260K\", \"messages\": []}", "messages", "non-empty array"},
            {"{\"model\": \"stories260K\", \"messages\": \"hi\"}", "messages", "got a string"},
            {"{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\"}]}", "messages[0].content", "you must provide"},
            {"{\"model\": \"stories260K\", \"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", "messages[0].role", "must be one of"},
            {"{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"x\", \"mood\": 1}]}", "messages[0].mood",
                "unknown field"},
            {"{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}",
                "messages[0].content[0].type", "only \"text\" parts"},
            {"{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 3, "
                + "\"max_completion_tokens\": 4}", "max_completion_tokens", "disagree"},
        };
        for (String[] c : cases) {
            JsonNode e = error(server.post("/v1/chat/completions", TestServer.ADMIN, c[0]), 400);
            assertThat(e.get("param").asText()).as(c[0]).isEqualTo(c[1]);
            assertThat(e.get("message").asText()).as(c[0]).contains(c[2]);
        }
        // content as text parts is accepted
        var ok = server.post("/v1/chat/completions", TestServer.ADMIN, "{\"model\": \"stories260K\", \"max_tokens\": 3, "
                + "\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Hi\"}]}]}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    }

    @Test
    void aPromptMayBeTokenIdsAsOpenAiAllows() throws Exception {
        for (String prompt : new String[] {"[1, 5, 9]", "[[1, 5, 9]]", "[\"Once\"]"}) {
            HttpResponse<String> r = server.post("/v1/completions", TestServer.ADMIN,
                    "{\"model\": \"stories260K\", \"prompt\": " + prompt + ", \"max_tokens\": 3}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(Json.MAPPER.readTree(r.body()).at("/usage/completion_tokens").asInt()).isEqualTo(3);
        }
        assertThat(Json.MAPPER.readTree(server.post("/v1/completions", TestServer.ADMIN,
                "{\"model\": \"stories260K\", \"prompt\": [[1, 5, 9]], \"max_tokens\": 3}").body()).at("/usage/prompt_tokens").asInt())
                .isEqualTo(3);
    }

    @Test
    void hugeBodiesAre413WhetherDeclaredOrStreamed() throws Exception {
        String big = "{\"model\": \"stories260K\", \"prompt\": \"" + "a".repeat(2 << 20) + "\"}";
        JsonNode declared = completionError(big, 413);
        assertThat(declared.get("message").asText()).contains("at most 1048576 bytes");
        // chunked, no Content-Length: cut off at the limit
        HttpRequest chunked = HttpRequest.newBuilder(URI.create(server.url() + "/v1/completions"))
                .header("Authorization", "Bearer " + TestServer.ADMIN)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))
                .build();
        error(server.http.send(chunked, HttpResponse.BodyHandlers.ofString()), 413);
        // and the server still answers
        assertThat(server.post("/v1/completions", TestServer.ADMIN, "{\"model\": \"stories260K\", \"prompt\": \"x\", \"max_tokens\": 2}")
                .statusCode()).isEqualTo(200);
    }

    @Test
    void promptLongerThanTheContextIs400NamingTheNumbers() throws Exception {
        int context = server.model.engine().config().maxPositions();
        String longPrompt = "Once upon a time there was a dog. ".repeat(context / 4);
        JsonNode e = completionError("{\"model\": \"stories260K\", \"prompt\": \"" + longPrompt + "\"}", 400);
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("message").asText()).contains("maximum context length is " + context + " tokens")
                .contains("at least 1 for the completion");
    }

    @Test
    void missingOrWrongKeysAre401WithoutEchoingTheKey() throws Exception {
        String body = "{\"model\": \"stories260K\", \"prompt\": \"x\", \"max_tokens\": 2}";
        HttpResponse<String> none = server.post("/v1/completions", null, body);
        assertThat(error(none, 401).get("message").asText()).contains("didn't provide an API key");
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        HttpResponse<String> wrong = server.post("/v1/completions", "wrong-key-with-a-secret-0000", body);
        assertThat(error(wrong, 401).get("message").asText()).isEqualTo("Incorrect API key provided.");
        assertThat(wrong.body()).doesNotContain("wrong-key-with-a-secret");
        HttpRequest basic = HttpRequest.newBuilder(URI.create(server.url() + "/v1/models"))
                .header("Authorization", "Basic " + TestServer.ADMIN).GET().build();
        assertThat(error(server.http.send(basic, HttpResponse.BodyHandlers.ofString()), 401).get("message").asText())
                .contains("must be 'Bearer KEY'");
        error(server.get("/v1/models", TestServer.ADMIN.substring(1)), 401);
    }

    @Test
    void anotherTenantsAdapterIs404AsIfItDidNotExist() throws Exception {
        String foreign = server.post("/v1/completions", TestServer.TENANT_B, "{\"model\": \"adapter0\", \"prompt\": \"x\"}").body();
        String missing = server.post("/v1/completions", TestServer.TENANT_B, "{\"model\": \"nothing\", \"prompt\": \"x\"}").body();
        assertThat(foreign.replace("adapter0", "NAME")).isEqualTo(missing.replace("nothing", "NAME"));
        JsonNode e = error(server.post("/v1/completions", TestServer.TENANT_B, "{\"model\": \"adapter0\", \"prompt\": \"x\"}"), 404);
        assertThat(e.get("code").asText()).isEqualTo("model_not_found");
        assertThat(server.post("/v1/completions", TestServer.TENANT_B,
                "{\"model\": \"adapter2\", \"prompt\": \"x\", \"max_tokens\": 2}").statusCode()).isEqualTo(200);
    }

    @Test
    void unknownRoutesAndMethodsAnswerInTheSameShape() throws Exception {
        assertThat(error(server.get("/v1/engines", TestServer.ADMIN), 404).get("message").asText())
                .contains("no such endpoint: GET /v1/engines");
        HttpResponse<String> r = server.http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/completions"))
                .header("Authorization", "Bearer " + TestServer.ADMIN).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isIn(404, 405);
        error(r, r.statusCode());
    }

    @Test
    void adapterManagementIsForAdminKeysAndStaysInsideTheRoot() throws Exception {
        JsonNode forbidden = error(server.post("/v1/load_lora_adapter", TestServer.TENANT_A,
                "{\"lora_name\": \"x\", \"lora_path\": \"adapter0\"}"), 403);
        assertThat(forbidden.get("message").asText()).contains("not marked admin");
        error(server.post("/v1/unload_lora_adapter", TestServer.TENANT_A, "{\"lora_name\": \"adapter0\"}"), 403);

        JsonNode dotdot = error(server.post("/v1/load_lora_adapter", TestServer.ADMIN,
                "{\"lora_name\": \"escape\", \"lora_path\": \"../stories260K\"}"), 400);
        assertThat(dotdot.get("message").asText()).contains("outside the adapter root");
        Path outside = dir.resolve("outside-adapter");
        TestServer.copyDir(server.adapterRoot.resolve("adapter0"), outside);
        Files.createSymbolicLink(server.adapterRoot.resolve("link"), outside);
        JsonNode link = error(server.post("/v1/load_lora_adapter", TestServer.ADMIN,
                "{\"lora_name\": \"linked\", \"lora_path\": \"link\"}"), 400);
        assertThat(link.get("message").asText()).contains("outside the adapter root");
        JsonNode absolute = error(server.post("/v1/load_lora_adapter", TestServer.ADMIN,
                "{\"lora_name\": \"abs\", \"lora_path\": \"" + outside.toAbsolutePath() + "\"}"), 400);
        assertThat(absolute.get("param").asText()).isEqualTo("lora_path");
        error(server.post("/v1/load_lora_adapter", TestServer.ADMIN, "{\"lora_name\": \"a b\", \"lora_path\": \"adapter0\"}"), 400);
        error(server.post("/v1/load_lora_adapter", TestServer.ADMIN, "{\"lora_name\": \"stories260K\", \"lora_path\": \"adapter0\"}"), 400);
        error(server.post("/v1/load_lora_adapter", TestServer.ADMIN, "{\"lora_name\": \"x\", \"lora_path\": \"adapter0\", \"y\": 1}"), 400);
        // a broken adapter (config for another base) is refused and nothing changes
        Path broken = server.adapterRoot.resolve("broken");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("adapter_config.json"), "{\"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"c_attn\"]}");
        error(server.post("/v1/load_lora_adapter", TestServer.ADMIN, "{\"lora_name\": \"broken2\", \"lora_path\": \"broken\"}"), 400);
        assertThat(server.get("/v1/models", TestServer.ADMIN).body()).doesNotContain("broken2").doesNotContain("link")
                .doesNotContain("escape");

        // a good load under another name: listed, usable, then unloaded and gone
        TestServer.copyDir(server.adapterRoot.resolve("adapter1"), server.adapterRoot.resolve("nested/copy"));
        HttpResponse<String> loaded = server.post("/v1/load_lora_adapter", TestServer.ADMIN,
                "{\"lora_name\": \"copy\", \"lora_path\": \"nested/copy\"}");
        assertThat(loaded.statusCode()).as(loaded.body()).isEqualTo(200);
        error(server.post("/v1/load_lora_adapter", TestServer.ADMIN, "{\"lora_name\": \"copy\", \"lora_path\": \"nested/copy\"}"), 400);
        assertThat(server.get("/v1/models", TestServer.ADMIN).body()).contains("\"copy\"");
        HttpResponse<String> used = server.post("/v1/completions", TestServer.ADMIN,
                "{\"model\": \"copy\", \"prompt\": \"The little dog\", \"max_tokens\": 12}");
        assertThat(Json.MAPPER.readTree(used.body()).at("/choices/0/text").asText())
                .isEqualTo(server.reference("adapter1", dev.lora4j.generate.PromptIds.encode(server.model.tokenizer(), "The little dog"),
                        12, java.util.List.of()));
        assertThat(server.post("/v1/unload_lora_adapter", TestServer.ADMIN, "{\"lora_name\": \"copy\"}").statusCode()).isEqualTo(200);
        error(server.post("/v1/completions", TestServer.ADMIN, "{\"model\": \"copy\", \"prompt\": \"x\"}"), 404);
        JsonNode again = error(server.post("/v1/unload_lora_adapter", TestServer.ADMIN, "{\"lora_name\": \"copy\"}"), 404);
        assertThat(again.get("param").asText()).isEqualTo("lora_name");
    }

    @Test
    void malformedHttpIsAnsweredByJettyInTheSameShape() throws Exception {
        URI uri = URI.create(server.url());
        for (String request : new String[] {"GARBAGE\r\n\r\n",
            "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
            try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
                socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(answer).startsWith("HTTP/1.1 400").contains("Content-Type: application/json")
                        .contains("{\"error\":{\"message\":\"malformed HTTP request: ").doesNotContain("<html>");
            }
        }
        HttpResponse<String> bigHeader = server.http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/models"))
                .header("X-Big", "a".repeat(20_000)).GET().build(), HttpResponse.BodyHandlers.ofString());
        error(bigHeader, 431);
    }

    @Test
    void healthAndMetricsNeedNoKey() throws Exception {
        HttpResponse<String> health = server.get("/health", null);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(Json.MAPPER.readTree(health.body()).get("status").asText()).isEqualTo("ok");
        server.post("/v1/completions", TestServer.ADMIN, "{\"model\": \"stories260K\", \"prompt\": \"x\", \"max_tokens\": 3}");
        String metrics = server.get("/metrics", null).body();
        assertThat(metrics).contains("lora4j_http_requests_total{endpoint=\"completions\",status=\"200\"}")
                .contains("lora4j_engine_kv_bytes_in_use").contains("lora4j_engine_adapters_loaded")
                .contains("lora4j_time_to_first_token_seconds_bucket").contains("lora4j_inter_token_latency_seconds_bucket")
                .contains("lora4j_tokens_generated_total").contains("lora4j_engine_waiting").contains("lora4j_engine_batch_size");
    }
}
