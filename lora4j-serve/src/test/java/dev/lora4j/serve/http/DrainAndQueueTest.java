package dev.lora4j.serve.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lora4j.serve.ServerOptions;
import dev.lora4j.serve.api.Json;
import dev.lora4j.serve.engine.EngineOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A full queue answers 429 with Retry-After; a draining server answers 503 and finishes the streams it runs. */
class DrainAndQueueTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void prepare() throws Exception {
        TestServer.prepare(dir);
    }

    private static final String LONG = "{\"model\": \"stories260K\", \"prompt\": \"Once upon a time\", \"max_tokens\": 200}";

    @Test
    void aFullQueueAnswers429WithRetryAfterAndTheRestSucceed() throws Exception {
        // One sequence at a time and one waiting: of many simultaneous requests, some must be turned away.
        try (TestServer server = TestServer.start(dir, new EngineOptions(64L << 20, 1, 1, 64, 8), ServerOptions.defaults());
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<HttpResponse<String>> all = new ArrayList<>();
            for (int round = 0; round < 5 && all.stream().noneMatch(r -> r.statusCode() == 429); round++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<HttpResponse<String>>> futures = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    futures.add(pool.submit(() -> {
                        go.await();
                        return server.post("/v1/completions", TestServer.ADMIN, LONG);
                    }));
                }
                go.countDown();
                for (Future<HttpResponse<String>> f : futures) {
                    all.add(f.get());
                }
            }
            assertThat(all).extracting(HttpResponse::statusCode).containsOnly(200, 429).contains(200, 429);
            for (HttpResponse<String> r : all) {
                if (r.statusCode() == 429) {
                    assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
                    JsonNode e = BadInputTest.error(r, 429);
                    assertThat(e.get("message").asText()).contains("at capacity");
                }
            }
            server.awaitIdle();
            assertThat(server.model.engine().stats().kvBytesInUse()).isZero();
        }
    }

    @Test
    void aClientThatHangsUpMidStreamIsCancelledAndItsMemoryReturned() throws Exception {
        try (TestServer server = TestServer.start(dir)) {
            long before = server.model.engine().stats().generatedTokens();
            server.hangUpMidStream("adapter2", 500);
            server.awaitIdle();
            assertThat(server.model.engine().stats().kvBytesInUse()).isZero();
            assertThat(server.model.engine().stats().generatedTokens() - before).as("tokens generated before the cancel").isLessThan(500);
            assertThat(server.get("/metrics", null).body())
                    .contains("lora4j_http_requests_total{endpoint=\"completions\",status=\"499\"} 1.0");
        }
    }

    @Test
    void beyondTheConcurrentRequestLimitIs429EvenBeforeTheBodyArrives() throws Exception {
        ServerOptions d = ServerOptions.defaults();
        ServerOptions one = new ServerOptions(d.host(), d.port(), d.maxBodyBytes(), d.maxPromptTokens(), d.maxTokensLimit(), 1,
                d.idleTimeout(), d.requestTimeout());
        try (TestServer server = TestServer.start(dir, EngineOptions.defaults(), one)) {
            URI uri = URI.create(server.url());
            String body = "{\"model\": \"stories260K\", \"prompt\": \"Once\", \"max_tokens\": 4}";
            try (java.net.Socket slow = new java.net.Socket(uri.getHost(), uri.getPort())) {
                // A client that sends its headers and half its body holds the one slot while the server waits for the rest.
                var out = slow.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestServer.ADMIN
                        + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + body.length() + "\r\n\r\n"
                        + body.substring(0, 10)).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                HttpResponse<String> refused = null;
                for (int i = 0; i < 100; i++) {   // until the slow request has reached the server's handler
                    refused = server.post("/v1/completions", TestServer.ADMIN, body);
                    if (refused.statusCode() == 429) {
                        break;
                    }
                    Thread.sleep(20);
                }
                JsonNode e = BadInputTest.error(refused, 429);
                assertThat(e.get("message").asText()).contains("--max-concurrent-requests");
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
                out.write(body.substring(10).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String answer = new String(slow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(answer).startsWith("HTTP/1.1 200").contains("\"completion_tokens\":4");
            }
            assertThat(server.post("/v1/completions", TestServer.ADMIN, body).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aRequestPastItsTimeIsCancelledWith504OrAnErrorEvent() throws Exception {
        ServerOptions d = ServerOptions.defaults();
        ServerOptions oneMillisecond = new ServerOptions(d.host(), d.port(), d.maxBodyBytes(), d.maxPromptTokens(), d.maxTokensLimit(),
                d.maxConcurrentRequests(), d.idleTimeout(), Duration.ofMillis(1));
        try (TestServer server = TestServer.start(dir, EngineOptions.defaults(), oneMillisecond)) {
            JsonNode e = BadInputTest.error(server.post("/v1/completions", TestServer.ADMIN, LONG), 504);
            assertThat(e.get("message").asText()).contains("--request-timeout").contains("cancelled");
            HttpResponse<String> streamed = server.post("/v1/completions", TestServer.ADMIN, LONG.replace("}", ", \"stream\": true}"));
            assertThat(streamed.statusCode()).isEqualTo(200);
            assertThat(streamed.body()).contains("data: {\"error\":{\"message\":\"the request ran longer than").endsWith("data: [DONE]\n\n");
            server.awaitIdle();
            assertThat(server.model.engine().stats().kvBytesInUse()).isZero();
        }
    }

    @Test
    void drainingAnswers503AndLetsTheStreamInFlightFinish() throws Exception {
        TestServer server = TestServer.start(dir);
        try {
            HttpRequest streamed = HttpRequest.newBuilder(URI.create(server.url() + "/v1/completions"))
                    .header("Authorization", "Bearer " + TestServer.ADMIN).POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\": \"adapter0\", \"prompt\": \"Once upon a time\", \"max_tokens\": 300, \"stream\": true}"))
                    .build();
            HttpResponse<java.io.InputStream> response = server.http.send(streamed, HttpResponse.BodyHandlers.ofInputStream());
            assertThat(response.statusCode()).isEqualTo(200);
            BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
            String first = lines.readLine();
            assertThat(first).startsWith("data: {");

            CompletableFuture<Boolean> shutdown = CompletableFuture.supplyAsync(() -> server.server.shutdown(Duration.ofSeconds(30)));
            while (!server.server.draining()) {
                Thread.onSpinWait();
            }
            // New requests are refused while the stream goes on (unless the drain already ended and Jetty stopped).
            try {
                HttpResponse<String> refused = server.post("/v1/completions", TestServer.ADMIN, LONG);
                BadInputTest.error(refused, 503);
                assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            } catch (java.net.ConnectException stopped) {
                assertThat(shutdown).isDone();
            }
            List<String> rest = new ArrayList<>();
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                rest.add(line);
            }
            assertThat(rest).contains("data: [DONE]");
            assertThat(rest.stream().filter(l -> l.contains("\"finish_reason\":\"length\"")).count()).isEqualTo(1);
            assertThat(shutdown.get()).as("nothing had to be cancelled").isTrue();
        } finally {
            server.model.close();
        }
    }

    @Test
    void healthSays503WhileDrainingAndAnEngineThatDrainsRefusesWith503() throws Exception {
        try (TestServer server = TestServer.start(dir)) {
            server.server.beginDrain();
            HttpResponse<String> health = server.get("/health", null);
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(Json.MAPPER.readTree(health.body()).get("status").asText()).isEqualTo("draining");
            assertThat(BadInputTest.error(server.post("/v1/completions", TestServer.ADMIN, LONG), 503).get("code").asText())
                    .isEqualTo("draining");
        }
        try (TestServer server = TestServer.start(dir)) {
            server.model.engine().drain(Duration.ZERO);   // the engine refuses, though the HTTP side still takes requests
            JsonNode e = BadInputTest.error(server.post("/v1/chat/completions", TestServer.ADMIN,
                    "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"), 503);
            assertThat(e.get("message").asText()).contains("shutting down");
        }
    }
}
