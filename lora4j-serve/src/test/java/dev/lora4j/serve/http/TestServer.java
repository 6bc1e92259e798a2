package dev.lora4j.serve.http;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.GenerationListener;
import dev.lora4j.generate.Generator;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.model.llama2c.Llama2cImport;
import dev.lora4j.serve.ServedModel;
import dev.lora4j.serve.ServerOptions;
import dev.lora4j.serve.auth.ApiKeys;
import dev.lora4j.serve.engine.EngineOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real server for the tests: stories260K (imported from ../shared; the tests are skipped where it
 * is absent) with four random (not no-op) adapters of different ranks and targets under an adapter
 * root, a keys file with an admin and two tenants, Jetty on an ephemeral loopback port. References
 * come from {@link Generator} on a separately loaded copy of the model, as {@code lora4j generate}
 * would produce them.
 */
final class TestServer implements AutoCloseable {
    static final Path STORIES = Paths.get("../../shared/models/stories260K");
    static final String ADMIN = "admin-key-0123456789abcdef";
    /** May use adapter0 and adapter1. */
    static final String TENANT_A = "tenant-a-key-0123456789";
    /** May use adapter2 only. */
    static final String TENANT_B = "tenant-b-key-0123456789";
    static final String BASE = "stories260K";
    static final List<String> ADAPTERS = List.of("adapter0", "adapter1", "adapter2", "adapter3");

    final Path modelDir;
    final Path adapterRoot;
    final ServedModel model;
    final OpenAiServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, String> references = new ConcurrentHashMap<>();

    private TestServer(Path modelDir, Path adapterRoot, ServedModel model, OpenAiServer server) {
        this.modelDir = modelDir;
        this.adapterRoot = adapterRoot;
        this.model = model;
        this.server = server;
    }

    /** Imports stories260K and makes the adapters under {@code dir}. */
    static Path prepare(Path dir) throws IOException {
        assumeTrue(Files.isRegularFile(STORIES.resolve("stories260K.bin")),
                "needs ../shared/models/stories260K (the llama2.c stories260K checkpoint and tok512.bin)");
        Path model = dir.resolve(BASE);
        Llama2cImport.convert(STORIES.resolve("stories260K.bin"), STORIES.resolve("tok512.bin"), model);
        Path root = dir.resolve("adapters");
        List<List<String>> targets = List.of(List.of("q_proj", "v_proj"), List.of("q_proj", "k_proj", "v_proj", "o_proj"),
                List.of("gate_proj", "up_proj", "down_proj"), List.of("o_proj", "lm_head"));
        int[] ranks = {8, 2, 16, 4};
        try (CausalLM base = Models.load(model)) {
            for (int i = 0; i < ADAPTERS.size(); i++) {
                LoraConfig config = LoraConfig.of(ranks[i], 2.0 * ranks[i], new ModuleSelector.Names(targets.get(i)))
                        .withInit(InitLoraWeights.RANDOM);
                LoraModel lora = LoraModel.attach(base, config, 7000 + i);
                PeftAdapterFiles.save(lora, root.resolve(ADAPTERS.get(i)));
                lora.detach();
            }
        }
        Files.writeString(dir.resolve("keys.txt"), """
                # the test's keys
                %s * admin
                %s adapter0,adapter1
                %s adapter2
                """.formatted(ADMIN, TENANT_A, TENANT_B));
        return model;
    }

    static TestServer start(Path dir, EngineOptions engine, ServerOptions options) throws IOException {
        Path modelDir = dir.resolve(BASE);
        if (!Files.isDirectory(modelDir)) {
            prepare(dir);
        }
        Path root = dir.resolve("adapters");
        ServedModel model = ServedModel.load(modelDir, engine, root);
        ApiKeys keys = ApiKeys.parse(Files.readAllLines(dir.resolve("keys.txt")), "keys.txt");
        try {
            return new TestServer(modelDir, root, model, OpenAiServer.start(model, options.withAddress("127.0.0.1", 0), keys));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    static TestServer start(Path dir) throws IOException {
        return start(dir, EngineOptions.defaults(), ServerOptions.defaults());
    }

    String url() {
        return server.url();
    }

    /** What {@code lora4j generate} produces for these prompt ids alone (greedy, stopping at EOS and the given strings). */
    String reference(String adapterOrNull, int[] prompt, int maxTokens, List<String> stops) throws IOException {
        String key = adapterOrNull + "|" + java.util.Arrays.toString(prompt) + "|" + maxTokens + "|" + stops;
        String cached = references.get(key);
        if (cached != null) {
            return cached;
        }
        try (CausalLM alone = Models.load(modelDir)) {
            if (adapterOrNull != null) {
                PeftAdapterFiles.load(alone, adapterRoot.resolve(adapterOrNull), w -> {});
            }
            GenerationConfig config = GenerationConfig.greedy(maxTokens).withStopTokens(model.stopTokens()).withStopStrings(stops);
            String text = new Generator(alone, model.tokenizer()).generate(prompt, config, GenerationListener.NONE).text();
            references.put(key, text);
            return text;
        }
    }

    HttpResponse<String> post(String path, String key, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String key) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(60)).GET();
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until the engine holds no KV memory and runs nothing (finished and cancelled requests give theirs back). */
    void awaitIdle() throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < until) {
            var s = model.engine().stats();
            if (s.kvBytesInUse() == 0 && s.running() == 0 && s.waiting() == 0) {
                return;
            }
            Thread.sleep(20);
        }
    }

    /** Opens a long stream over a raw socket, reads its first event, and closes the connection. */
    void hangUpMidStream(String model, int maxTokens) throws IOException {
        URI uri = URI.create(url());
        String body = "{\"model\": \"" + model + "\", \"prompt\": \"Once upon a time\", \"max_tokens\": " + maxTokens + ", \"stream\": true}";
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nAuthorization: Bearer " + TestServer.ADMIN
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            String seen = "";
            byte[] buf = new byte[512];
            while (!seen.contains("data: {")) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                seen += new String(buf, 0, n, StandardCharsets.UTF_8);
            }
            if (!seen.startsWith("HTTP/1.1 200") || !seen.contains("data: {")) {
                throw new IOException("expected a 200 stream, got: " + seen);
            }
        }
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    @Override
    public void close() {
        server.close();
        model.close();
    }
}
