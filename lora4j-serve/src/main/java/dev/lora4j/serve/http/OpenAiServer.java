package dev.lora4j.serve.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.serve.ServedModel;
import dev.lora4j.serve.ServerOptions;
import dev.lora4j.serve.api.ApiError;
import dev.lora4j.serve.api.Json;
import dev.lora4j.serve.api.JsonFields;
import dev.lora4j.serve.api.OpenAiResponses;
import dev.lora4j.serve.auth.ApiKeys;
import dev.lora4j.serve.auth.Caller;
import dev.lora4j.serve.engine.EngineStats;
import dev.lora4j.serve.metrics.ServerMetrics;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The OpenAI-compatible HTTP server over a {@link ServedModel}: Javalin on Jetty 12, each request
 * on its own virtual thread (a request blocks while its tokens are generated, which costs a
 * virtual thread nothing).
 *
 * <p>Every endpoint goes through one wrapper that refuses requests while draining, checks the API
 * key, reads the body within its limit, turns {@link ApiError}s into OpenAI's error JSON and
 * anything unexpected into a logged 500 with a generic message, and counts the answer by endpoint
 * and status.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OpenAiServer.class.getName());

    private final ServedModel model;
    private final ServerOptions options;
    private final ApiKeys keysOrNull;
    private final ServerMetrics metrics;
    private final GenerationHandler generation;
    private final AdapterAdminHandler admin;
    private final long created = System.currentTimeMillis() / 1000;
    /** Generation requests being answered, counted from before their body is read (bodies and prompts cost memory and CPU). */
    private final Semaphore generationSlots;
    private final Javalin app;
    private volatile boolean draining;

    /** What an endpoint does once the wrapper has checked the caller and read the body; returns the status it answered. */
    @FunctionalInterface
    private interface Endpoint {
        int handle(Context ctx, Caller caller, ObjectNode bodyOrNull) throws Exception;
    }

    private OpenAiServer(ServedModel model, ServerOptions options, ApiKeys keysOrNull) {
        this.model = model;
        this.options = options;
        this.keysOrNull = keysOrNull;
        this.metrics = new ServerMetrics(model.engine());
        this.generationSlots = new Semaphore(options.maxConcurrentRequests());
        this.generation = new GenerationHandler(model, options, metrics);
        this.admin = new AdapterAdminHandler(model);
        this.app = Javalin.create(this::configure);
    }

    /**
     * Starts serving. Without API keys only a loopback address is allowed: anyone who could reach
     * another address could use the model and load adapters.
     *
     * @param keysOrNull null: no authentication (loopback only), every caller is {@link Caller#LOCAL}
     */
    public static OpenAiServer start(ServedModel model, ServerOptions options, ApiKeys keysOrNull) {
        checkBinding(options.host(), keysOrNull != null);
        OpenAiServer server = new OpenAiServer(model, options, keysOrNull);
        server.app.start();
        return server;
    }

    /** Refuses a non-loopback address without API keys (callable before the model is loaded, to fail fast). */
    public static void checkBinding(String host, boolean haveKeys) {
        if (!haveKeys && !isLoopback(host)) {
            throw new IllegalArgumentException("refusing to listen on " + host + " without API keys: anyone who can reach "
                    + "it could use the model and load adapters. Give --api-keys FILE, or bind to 127.0.0.1 (the default)");
        }
    }

    static boolean isLoopback(String host) {
        try {
            InetAddress[] addresses = InetAddress.getAllByName(host);
            for (InetAddress a : addresses) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return addresses.length > 0;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve the address to listen on: " + host, e);
        }
    }

    private void configure(JavalinConfig config) {
        config.concurrency.useVirtualThreads = true;
        config.startup.showJavalinBanner = false;
        config.startup.showOldJavalinVersionWarning = false;
        // Compression would buffer the streamed chunks; completions are small and mostly served nearby.
        config.http.compressionStrategy = CompressionStrategy.NONE;
        config.jetty.modifyHttpConfiguration(http -> {
            http.setSendServerVersion(false);
            http.setSendXPoweredBy(false);
        });
        config.jetty.addConnector((server, http) -> {
            ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
            connector.setHost(options.host());
            connector.setPort(options.port());
            connector.setIdleTimeout(options.idleTimeout().toMillis());
            return connector;
        });
        config.jetty.modifyServer(server -> server.setErrorHandler(new JettyErrors()));

        route(config, HandlerType.GET, "/health", "health", false, false, false, (ctx, caller, body) -> health(ctx));
        route(config, HandlerType.GET, "/metrics", "metrics", false, false, false, (ctx, caller, body) -> {
            ctx.status(200).contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
            return 200;
        });
        route(config, HandlerType.GET, "/v1/models", "models", true, false, false, (ctx, caller, body) -> models(ctx, caller));
        route(config, HandlerType.GET, "/v1/models/{model}", "models", true, false, false, (ctx, caller, body) -> model(ctx, caller));
        route(config, HandlerType.POST, "/v1/chat/completions", "chat_completions", true, true, true,
                (ctx, caller, body) -> generation.chat(ctx, caller, body));
        route(config, HandlerType.POST, "/v1/completions", "completions", true, true, true,
                (ctx, caller, body) -> generation.completion(ctx, caller, body));
        route(config, HandlerType.POST, "/v1/load_lora_adapter", "load_lora_adapter", true, true, false, admin::load);
        route(config, HandlerType.POST, "/v1/unload_lora_adapter", "unload_lora_adapter", true, true, false, admin::unload);

        // Javalin's own answers (no such route, wrong method) in the same JSON shape.
        config.routes.exception(HttpResponseException.class, (e, ctx) -> {
            ApiError api = e.getStatus() == 404
                    ? ApiError.notFound("no such endpoint: " + ctx.method() + " " + JsonFields.abbreviate(ctx.path()))
                    : new ApiError(e.getStatus(), "invalid_request_error", e.getMessage(), null, null, Map.of());
            metrics.request("other", fail(ctx, api));
        });
        config.routes.exception(Exception.class, (e, ctx) -> {
            LOG.log(System.Logger.Level.ERROR, "unexpected error answering " + ctx.method() + " " + ctx.path(), e);
            metrics.request("other", fail(ctx, ApiError.internal()));
        });
    }

    /**
     * @param generation counts against --max-concurrent-requests (and is waited for on shutdown)
     */
    private void route(JavalinConfig config, HandlerType method, String path, String name, boolean authenticated,
                       boolean jsonBody, boolean generation, Endpoint endpoint) {
        config.routes.addHttpHandler(method, path, ctx -> {
            int status;
            boolean holdsSlot = false;
            try {
                if (draining && authenticated) {
                    throw ApiError.draining("the server is shutting down and takes no new requests");
                }
                Caller caller = authenticated ? authenticate(ctx) : null;
                if (generation) {
                    if (!generationSlots.tryAcquire()) {
                        throw ApiError.busy("the server is answering as many requests as it takes at once ("
                                + options.maxConcurrentRequests() + ", lora4j serve --max-concurrent-requests); retry shortly");
                    }
                    holdsSlot = true;
                    metrics.inFlight().incrementAndGet();
                }
                ObjectNode body = jsonBody ? Json.parseObject(RequestBody.read(ctx, options.maxBodyBytes())) : null;
                status = endpoint.handle(ctx, caller, body);
            } catch (ApiError e) {
                status = fail(ctx, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                status = fail(ctx, ApiError.draining("the server is shutting down"));
            } catch (Exception | Error e) {
                LOG.log(System.Logger.Level.ERROR, "unexpected error answering " + method + " " + path, e);
                status = fail(ctx, ApiError.internal());
            } finally {
                if (holdsSlot) {
                    metrics.inFlight().decrementAndGet();
                    generationSlots.release();
                }
            }
            metrics.request(name, status);
        });
    }

    /** The caller of a request: by its Bearer key, or {@link Caller#LOCAL} when the server has no keys. */
    private Caller authenticate(Context ctx) {
        if (keysOrNull == null) {
            return Caller.LOCAL;
        }
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            throw ApiError.unauthorized("You didn't provide an API key. Send it in the header 'Authorization: Bearer KEY'.");
        }
        String h = header.strip();
        if (!h.toLowerCase(Locale.ROOT).startsWith("bearer ")) {
            throw ApiError.unauthorized("The Authorization header must be 'Bearer KEY'.");
        }
        return keysOrNull.caller(h.substring("bearer ".length()).strip())
                .orElseThrow(() -> ApiError.unauthorized("Incorrect API key provided."));
    }

    /** Writes the error unless the response already began (a stream), and returns its status for the metrics. */
    private static int fail(Context ctx, ApiError e) {
        if (!ctx.res().isCommitted()) {
            ctx.res().resetBuffer();
            e.headers().forEach(ctx::header);
            ctx.status(e.status()).contentType("application/json").result(Json.errorBody(e));
        }
        return e.status();
    }

    private int health(Context ctx) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        int status = draining ? 503 : 200;
        body.put("status", draining ? "draining" : "ok");
        body.put("model", model.name());
        EngineStats s = model.engine().stats();
        body.put("running", s.running());
        body.put("waiting", s.waiting());
        ctx.status(status).contentType("application/json").result(Json.bytes(body));
        return status;
    }

    private int models(Context ctx, Caller caller) {
        List<String> adapters = model.engine().adapterNames().stream().filter(caller::mayUse).sorted().toList();
        ctx.status(200).contentType("application/json").result(Json.bytes(OpenAiResponses.models(model.name(), adapters, created)));
        return 200;
    }

    private int model(Context ctx, Caller caller) {
        String name = ctx.pathParam("model");
        String adapter = generation.adapterFor(name, caller);   // 404 as for a completion
        ObjectNode list = OpenAiResponses.models(model.name(), adapter == null ? List.of() : List.of(adapter), created);
        ctx.status(200).contentType("application/json").result(Json.bytes(list.get("data").get(adapter == null ? 0 : 1)));
        return 200;
    }

    public int port() {
        return app.port();
    }

    /** http://host:port, for printing and for clients. */
    public String url() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + host + ":" + port();
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    public boolean draining() {
        return draining;
    }

    /** From now on /v1 requests are answered 503 and /health says "draining"; running ones go on. */
    public void beginDrain() {
        draining = true;
    }

    /**
     * Stops taking requests, lets the engine finish what it runs for up to {@code timeout} (then
     * cancels the rest), gives the request threads a moment to write their last bytes, and stops
     * Jetty. True when nothing had to be cancelled.
     */
    public boolean shutdown(Duration timeout) {
        beginDrain();
        boolean clean = model.engine().drain(timeout);
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (metrics.inFlight().get() > 0 && System.nanoTime() < until) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        app.stop();
        return clean;
    }

    /** Stops Jetty at once (the engine is the caller's to close). */
    @Override
    public void close() {
        app.stop();
    }
}
