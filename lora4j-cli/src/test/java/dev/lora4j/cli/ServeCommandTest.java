package dev.lora4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lora4j serve} as a user runs it, on stories260K (from ../shared; skipped without it): it prints where it
 * listens, answers with a key from the keys file, and on SIGTERM drains, stops and returns 0.
 * Without a keys file it refuses to listen beyond loopback before loading anything.
 */
class ServeCommandTest {
    private static final Path STORIES = Paths.get("../../shared/models/stories260K");

    @Test
    void refusesToListenBeyondLoopbackWithoutKeys() {
        EvalCommandTest.Run r = EvalCommandTest.run("serve", "--model", "no-such-dir", "--host", "0.0.0.0");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("lora4j serve: error: refusing to listen on 0.0.0.0 without API keys")
                .contains("--api-keys FILE");
    }

    @Test
    void servesUntilSigtermThenExitsZero(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isExecutable(Paths.get("/bin/kill")) || Files.isExecutable(Paths.get("/usr/bin/kill")), "needs kill(1)");
        assumeTrue(Files.isRegularFile(STORIES.resolve("stories260K.bin")), "needs ../shared/models/stories260K");
        Path model = tmp.resolve("tiny");
        EvalCommandTest.Run imported = EvalCommandTest.run("import-llama2c", "--checkpoint", STORIES.resolve("stories260K.bin").toString(),
                "--tokenizer", STORIES.resolve("tok512.bin").toString(), "--output", model.toString());
        assertThat(imported.code()).as(imported.err()).isZero();
        Path keys = tmp.resolve("keys.txt");
        Files.writeString(keys, "test-key-0123456789abcdef * admin\n");
        Files.setPosixFilePermissions(keys, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CompletableFuture<Integer> serve = CompletableFuture.supplyAsync(() -> Main.run("serve", "--model", model.toString(),
                    "--port", "0", "--api-keys", keys.toString(), "--drain-timeout", "5s"));
            Matcher url = null;
            for (int i = 0; i < 600 && !serve.isDone(); i++) {
                Matcher m = Pattern.compile("at (http://127\\.0\\.0\\.1:\\d+/v1)").matcher(out.toString(StandardCharsets.UTF_8));
                if (m.find() && out.toString(StandardCharsets.UTF_8).contains("API key")) {
                    url = m;
                    break;
                }
                Thread.sleep(50);
            }
            assertThat(url).as("the server's first lines; stdout: " + out + "; stderr: " + err
                    + (serve.isDone() ? "; exit code " + serve.join() : "")).isNotNull();
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(url.group(1) + "/models"))
                    .header("Authorization", "Bearer test-key-0123456789abcdef").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(models.statusCode()).isEqualTo(200);
            assertThat(models.body()).contains("\"id\":\"tiny\"");
            HttpResponse<String> completion = http.send(HttpRequest.newBuilder(URI.create(url.group(1) + "/completions"))
                    .header("Authorization", "Bearer test-key-0123456789abcdef").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\": \"tiny\", \"prompt\": [1, 5, 9], \"max_tokens\": 4}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(completion.statusCode()).as(completion.body()).isEqualTo(200);

            new ProcessBuilder("kill", "-TERM", Long.toString(ProcessHandle.current().pid())).inheritIO().start().waitFor();
            assertThat(serve.get(30, TimeUnit.SECONDS)).isZero();
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("lora4j serve: stopped").doesNotContain("test-key");
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("adapters: none").contains("1 API key from");
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
