package dev.lora4j.serve;

import java.time.Duration;

/**
 * The HTTP side's limits (the engine has its own: {@link dev.lora4j.serve.engine.EngineOptions}).
 *
 * @param host                  address to bind; anything but loopback needs API keys
 * @param port                  TCP port (0: any free one)
 * @param maxBodyBytes          larger request bodies are refused with 413 before they are read
 * @param maxPromptTokens       longer prompts are refused with 400 (the model's context is a limit too)
 * @param maxTokensLimit        the most {@code max_tokens} a request may ask for; also what an absent
 *                              {@code max_tokens} means, when that much fits in the context
 * @param maxConcurrentRequests generation requests answered at once; one more is refused with 429
 *                              (below this, the engine's own queue decides)
 * @param idleTimeout           a connection that neither sends nor receives for this long is closed
 * @param requestTimeout        a generation still running after this long is cancelled
 */
public record ServerOptions(String host, int port, long maxBodyBytes, int maxPromptTokens, int maxTokensLimit,
                            int maxConcurrentRequests, Duration idleTimeout, Duration requestTimeout) {
    public ServerOptions {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        }
        if (maxBodyBytes < 1024 || maxPromptTokens < 1 || maxTokensLimit < 1 || maxConcurrentRequests < 1) {
            throw new IllegalArgumentException("server limits out of range: body " + maxBodyBytes + " bytes (≥ 1024), prompt "
                    + maxPromptTokens + " tokens, max_tokens " + maxTokensLimit + ", concurrent requests "
                    + maxConcurrentRequests + " (each ≥ 1)");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero() || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive, got idle " + idleTimeout + ", request " + requestTimeout);
        }
    }

    /** 127.0.0.1:8080, 1 MiB bodies, 8192 prompt tokens, max_tokens up to 1024, 512 requests at once, 60 s idle, 10 min per request. */
    public static ServerOptions defaults() {
        return new ServerOptions("127.0.0.1", 8080, 1L << 20, 8192, 1024, 512, Duration.ofSeconds(60), Duration.ofMinutes(10));
    }

    public ServerOptions withAddress(String host, int port) {
        return new ServerOptions(host, port, maxBodyBytes, maxPromptTokens, maxTokensLimit, maxConcurrentRequests, idleTimeout,
                requestTimeout);
    }
}
