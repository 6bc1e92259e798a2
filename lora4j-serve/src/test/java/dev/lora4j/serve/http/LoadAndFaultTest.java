package dev.lora4j.serve.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lora4j.generate.PromptIds;
import dev.lora4j.serve.ServerOptions;
import dev.lora4j.serve.api.Json;
import dev.lora4j.serve.engine.EngineOptions;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded load with faults on loopback: concurrent clients over four adapters and the base,
 * whole and streamed, while an admin loads and unloads an adapter and other clients send bad
 * requests or hang up mid-stream. Only three adapters fit in memory at once, so the LRU cache
 * evicts and reloads under load. Afterwards: no 5xx, every 200 answer equal to the request alone,
 * the disconnects seen by the server, and the KV cache back to empty.
 */
class LoadAndFaultTest {
    @TempDir
    static Path dir;

    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Lily and Ben went to the park. They"};
    private static final int MAX_TOKENS = 20;

    @Test
    void concurrentClientsWithFaultsGetCorrectAnswersAndNoServerErrors() throws Exception {
        TestServer.prepare(dir);
        EngineOptions engine = new EngineOptions(32L << 20, 8, 256, 16, 3);
        try (TestServer server = TestServer.start(dir, engine, ServerOptions.defaults())) {
            // "dyn" is adapter1 under another name, loaded and unloaded while requests run.
            TestServer.copyDir(server.adapterRoot.resolve("adapter1"), server.adapterRoot.resolve("dyn-src"));
            List<String> models = new ArrayList<>(TestServer.ADAPTERS);
            models.add(TestServer.BASE);
            Map<String, String> expected = new ConcurrentHashMap<>();
            for (String m : models) {
                for (String p : PROMPTS) {
                    int[] ids = PromptIds.encode(server.model.tokenizer(), p);
                    expected.put(m + "|" + p, server.reference(m.equals(TestServer.BASE) ? null : m, ids, MAX_TOKENS, List.of()));
                }
            }
            for (String p : PROMPTS) {
                expected.put("dyn|" + p, expected.get("adapter1|" + p));
            }

            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            List<Integer> statuses = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean running = new AtomicBoolean(true);
            long start = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < 8; c++) {
                    int client = c;
                    clients.add(pool.submit(() -> {
                        for (int i = 0; i < 6; i++) {
                            String model = i % 4 == 3 ? "dyn" : (client + i) % 5 == 4 ? TestServer.BASE : TestServer.ADAPTERS.get((client + i) % 5);
                            String prompt = PROMPTS[(client * 7 + i) % PROMPTS.length];
                            boolean stream = (client + i) % 2 == 0;
                            String body = "{\"model\": \"" + model + "\", \"prompt\": \"" + prompt + "\", \"max_tokens\": " + MAX_TOKENS
                                    + (stream ? ", \"stream\": true" : "") + "}";
                            HttpResponse<String> r = server.post("/v1/completions", TestServer.ADMIN, body);
                            statuses.add(r.statusCode());
                            if (r.statusCode() == 404 && model.equals("dyn")) {
                                continue;   // asked while unloaded: fine
                            }
                            String text = r.statusCode() != 200 ? null : stream ? streamedText(r.body()) : wholeText(r.body());
                            if (!expected.get(model + "|" + prompt).equals(text)) {
                                failures.add(model + " " + (stream ? "stream" : "whole") + " " + r.statusCode() + ": " + r.body());
                            }
                        }
                        return null;
                    }));
                }
                Future<?> admin = pool.submit(() -> {
                    while (running.get()) {
                        statuses.add(server.post("/v1/load_lora_adapter", TestServer.ADMIN,
                                "{\"lora_name\": \"dyn\", \"lora_path\": \"dyn-src\"}").statusCode());
                        Thread.sleep(30);
                        statuses.add(server.post("/v1/unload_lora_adapter", TestServer.ADMIN, "{\"lora_name\": \"dyn\"}").statusCode());
                        Thread.sleep(10);
                    }
                    return null;
                });
                Future<?> hangUps = pool.submit(() -> {
                    for (int i = 0; i < 4; i++) {
                        server.hangUpMidStream(TestServer.ADAPTERS.get(i % 4), 400);
                    }
                    return null;
                });
                Future<?> bad = pool.submit(() -> {
                    String[] bodies = {"{not json", "{\"model\": \"adapter0\", \"prompt\": 1}", "{\"model\": \"nope\", \"prompt\": \"x\"}",
                        "{\"model\": \"adapter0\", \"prompt\": \"x\", \"temperature\": \"hot\"}"};
                    for (int i = 0; i < 16; i++) {
                        HttpResponse<String> r = server.post("/v1/completions", i % 5 == 4 ? "bad-key-000000000000" : TestServer.ADMIN,
                                bodies[i % bodies.length]);
                        statuses.add(r.statusCode());
                        if (r.statusCode() < 400 || r.statusCode() >= 500) {
                            failures.add("bad request answered " + r.statusCode() + ": " + r.body());
                        }
                    }
                    return null;
                });
                for (Future<?> f : clients) {
                    f.get(90, TimeUnit.SECONDS);
                }
                hangUps.get(60, TimeUnit.SECONDS);
                bad.get(60, TimeUnit.SECONDS);
                running.set(false);
                admin.get(30, TimeUnit.SECONDS);
            }
            assertThat(failures).isEmpty();
            assertThat(statuses).noneMatch(s -> s >= 500);
            assertThat(statuses).contains(200, 400, 401, 404);
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("load and fault test: %d answers in %.1f s%n", statuses.size(), seconds);
            assertThat(seconds).as("seconds under load").isLessThan(60);

            server.awaitIdle();
            assertThat(server.model.engine().stats().kvBytesInUse()).isZero();
            assertThat(server.model.engine().stats().running()).isZero();
            String metrics = server.get("/metrics", null).body();
            assertThat(metrics).contains("status=\"" + GenerationHandler.CLIENT_CLOSED + "\"");
            assertThat(metrics).doesNotContain("status=\"500\"");
        }
    }

    static String wholeText(String body) throws Exception {
        return Json.MAPPER.readTree(body).at("/choices/0/text").asText();
    }

    /** The text of an SSE completion stream, checking that it ends with a finish_reason and [DONE]. */
    static String streamedText(String body) throws Exception {
        StringBuilder text = new StringBuilder();
        List<String> events = body.lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        if (events.isEmpty() || !events.getLast().equals("[DONE]")) {
            return "(no [DONE]) " + body;
        }
        int finishes = 0;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode choice = Json.MAPPER.readTree(e).at("/choices/0");
            text.append(choice.get("text").asText());
            finishes += choice.get("finish_reason").isNull() ? 0 : 1;
        }
        return finishes == 1 ? text.toString() : "(" + finishes + " finish reasons) " + text;
    }
}
