package dev.lora4j.cli;

import dev.lora4j.serve.Quantities;
import dev.lora4j.serve.ServedModel;
import dev.lora4j.serve.ServerOptions;
import dev.lora4j.serve.auth.ApiKeys;
import dev.lora4j.serve.engine.EngineOptions;
import dev.lora4j.serve.http.OpenAiServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Serves a base model and its adapters over OpenAI's API until SIGTERM or SIGINT, then stops taking
 * requests, lets those in flight finish within the drain timeout, and exits 0.
 *
 * <p>The signals are caught with handlers rather than left to a shutdown hook: a JVM ended by a
 * signal exits 128 + the signal's number whatever its hooks do, and a server that shut down cleanly
 * should say so with 0. A shutdown hook still drains when the JVM ends some other way.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model and many LoRA adapters over an OpenAI-compatible HTTP API, batching requests for",
                "different adapters together. Endpoints: /v1/models, /v1/completions, /v1/chat/completions,",
                "/v1/load_lora_adapter, /v1/unload_lora_adapter, /health, /metrics. Listens on loopback unless given",
                "--api-keys. Stops on SIGTERM/SIGINT after finishing the requests in flight (--drain-timeout)."})
final class ServeCommand implements Callable<Integer> {
    /** Jetty's and Javalin's start-up messages are noise next to ours: their warnings and errors only (held: JUL keeps loggers weakly). */
    private static final List<Logger> QUIETER = List.of(Logger.getLogger("org.eclipse.jetty"), Logger.getLogger("io.javalin"));

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory (config.json, safetensors, tokenizer); "
            + "clients name it by the directory's name")
    Path model;

    @Option(names = "--adapter", paramLabel = "NAME=DIR", description = "a PEFT adapter to serve as model NAME (repeatable)")
    Map<String, Path> adapters = new LinkedHashMap<>();

    @Option(names = "--adapter-root", paramLabel = "DIR", description = "adapters in its subdirectories are served by name on first "
            + "use; load_lora_adapter loads only from inside it")
    Path adapterRoot;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE}; "
            + "another than loopback needs --api-keys)")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "TCP port (default: ${DEFAULT-VALUE}; 0: any free port)")
    int port;

    @Option(names = "--api-keys", paramLabel = "FILE", description = "API keys, one per line: KEY ADAPTERS [admin], where ADAPTERS is *, "
            + "- (base only) or a,b,c; without it every local caller may do everything")
    Path apiKeys;

    @Option(names = "--kv-budget", paramLabel = "SIZE", defaultValue = "256MiB", description = "KV-cache memory for all running requests "
            + "(default: ${DEFAULT-VALUE}); requests wait for room")
    String kvBudget;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "32", description = "sequences decoded together (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "256", description = "requests waiting for admission before "
            + "more are refused with 429 (default: ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--prefill-chunk", paramLabel = "N", defaultValue = "64", description = "prompt tokens per engine step "
            + "(default: ${DEFAULT-VALUE})")
    int prefillChunk;

    @Option(names = "--max-loaded-adapters", paramLabel = "N", defaultValue = "64", description = "adapters held in memory, least "
            + "recently used out first (default: ${DEFAULT-VALUE})")
    int maxLoadedAdapters;

    @Option(names = "--drain-timeout", paramLabel = "TIME", defaultValue = "30s", description = "on shutdown, how long requests in flight "
            + "may take to finish before they are cancelled (default: ${DEFAULT-VALUE})")
    String drainTimeout;

    @Option(names = "--max-body", paramLabel = "SIZE", defaultValue = "1MiB", description = "largest request body (default: ${DEFAULT-VALUE})")
    String maxBody;

    @Option(names = "--max-prompt-tokens", paramLabel = "N", defaultValue = "8192", description = "longest prompt (default: ${DEFAULT-VALUE}; "
            + "the model's context also limits it)")
    int maxPromptTokens;

    @Option(names = "--max-tokens-limit", paramLabel = "N", defaultValue = "1024", description = "most max_tokens a request may ask for, "
            + "and what an absent max_tokens means when it fits (default: ${DEFAULT-VALUE})")
    int maxTokensLimit;

    @Option(names = "--max-concurrent-requests", paramLabel = "N", defaultValue = "512", description = "generation requests answered at "
            + "once; more get 429 (default: ${DEFAULT-VALUE})")
    int maxConcurrent;

    @Option(names = "--idle-timeout", paramLabel = "TIME", defaultValue = "60s", description = "close connections silent this long "
            + "(default: ${DEFAULT-VALUE})")
    String idleTimeout;

    @Option(names = "--request-timeout", paramLabel = "TIME", defaultValue = "10m", description = "cancel a generation running this long "
            + "(default: ${DEFAULT-VALUE})")
    String requestTimeout;

    @Override
    public Integer call() throws Exception {
        // One line per log record (JUL's default takes two), set before anything logs.
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
        QUIETER.forEach(l -> l.setLevel(Level.WARNING));
        ServerOptions serverOptions = new ServerOptions(host, port, Quantities.bytes(maxBody), maxPromptTokens, maxTokensLimit,
                maxConcurrent, Quantities.duration(idleTimeout), Quantities.duration(requestTimeout));
        EngineOptions engineOptions = new EngineOptions(Quantities.bytes(kvBudget), maxBatch, maxQueue, prefillChunk, maxLoadedAdapters);
        Duration drain = Quantities.duration(drainTimeout);
        // Everything that can be refused is checked before the model is loaded.
        OpenAiServer.checkBinding(host, apiKeys != null);
        ApiKeys keys = apiKeys == null ? null : ApiKeys.load(apiKeys, w -> System.err.println("lora4j serve: warning: " + w));
        if (adapterRoot != null && !Files.isDirectory(adapterRoot)) {
            throw new IllegalArgumentException("--adapter-root " + adapterRoot + " is not a directory");
        }
        Path root = adapterRoot == null ? null : adapterRoot.toAbsolutePath().normalize();

        ServedModel served = ServedModel.load(model, engineOptions, root);
        OpenAiServer server;
        try {
            for (Map.Entry<String, Path> a : adapters.entrySet()) {
                if (a.getKey().equals(served.name())) {
                    throw new IllegalArgumentException("--adapter " + a.getKey() + "=...: the name is the base model's; choose another");
                }
                served.engine().addAdapter(a.getKey(), a.getValue());
            }
            server = OpenAiServer.start(served, serverOptions, keys);
        } catch (RuntimeException e) {
            served.close();
            throw e;
        }

        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean stopped = new AtomicBoolean();
        Runnable shutdown = () -> {
            if (stopped.compareAndSet(false, true)) {
                System.err.println("lora4j serve: stopping: finishing requests in flight (up to " + drain.toSeconds() + " s)");
                boolean clean = server.shutdown(drain);
                served.close();
                System.err.println("lora4j serve: stopped" + (clean ? "" : " (requests still running after the drain timeout were cancelled)"));
            }
        };
        Thread hook = new Thread(shutdown, "lora4j-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        Map<sun.misc.Signal, sun.misc.SignalHandler> previous = new LinkedHashMap<>();
        for (String name : List.of("TERM", "INT")) {
            sun.misc.Signal signal = new sun.misc.Signal(name);
            previous.put(signal, sun.misc.Signal.handle(signal, s -> stop.countDown()));
        }

        System.out.println("lora4j serve: " + served.name() + " (" + served.engine().config().modelType() + ", "
                + served.engine().config().maxPositions() + " positions"
                + (served.chatTemplateOrNull() == null ? ", no chat template: chat uses a plain User:/Assistant: transcript" : ", chat template")
                + ") at " + server.url() + "/v1");
        List<String> names = new ArrayList<>(served.engine().adapterNames());
        System.out.println("lora4j serve: adapters: " + (names.isEmpty() ? "none" : String.join(", ", names))
                + (root == null ? "" : " (adapter root " + root + ")"));
        System.out.println("lora4j serve: " + (keys == null ? "no API keys: loopback only, every caller may load adapters"
                : keys.size() + " API key" + (keys.size() == 1 ? "" : "s") + " from " + apiKeys));
        System.out.flush();

        stop.await();
        shutdown.run();
        Runtime.getRuntime().removeShutdownHook(hook);
        previous.forEach(sun.misc.Signal::handle);   // the JVM's own handling again, for whoever runs after us
        return 0;
    }
}
