package dev.lora4j.serve.metrics;

import dev.lora4j.serve.engine.EngineStats;
import dev.lora4j.serve.engine.ServingEngine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * What {@code GET /metrics} shows, in Prometheus' text format: HTTP requests by endpoint and status,
 * the engine's counters and gauges (read from {@link ServingEngine#stats()} at each scrape, so they
 * are never stale), and the latency histograms the server measures itself.
 */
public final class ServerMetrics {
    /** Bucket bounds from 1 ms (one decode step of a small model) to 60 s (a long queue wait). */
    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(20),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)
    };

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final Timer requestDuration;
    private final AtomicInteger inFlight = new AtomicInteger();

    public ServerMetrics(ServingEngine engine) {
        engineGauge(engine, "lora4j.engine.waiting", "requests waiting for admission", EngineStats::waiting);
        engineGauge(engine, "lora4j.engine.running", "sequences admitted (prefilling or decoding)", EngineStats::running);
        engineGauge(engine, "lora4j.engine.batch.size", "sequences in the last decode step", EngineStats::lastBatchSize);
        engineGauge(engine, "lora4j.engine.kv.bytes.in.use", "KV-cache bytes held by running sequences", EngineStats::kvBytesInUse);
        engineGauge(engine, "lora4j.engine.kv.budget.bytes", "KV-cache bytes all sequences may hold", EngineStats::kvBudgetBytes);
        engineGauge(engine, "lora4j.engine.adapters.loaded", "adapters held in memory", EngineStats::adaptersLoaded);
        FunctionCounter.builder("lora4j.tokens.prompt", engine, e -> e.stats().promptTokens())
                .description("prompt tokens prefilled").register(registry);
        FunctionCounter.builder("lora4j.tokens.generated", engine, e -> e.stats().generatedTokens())
                .description("tokens generated").register(registry);
        Gauge.builder("lora4j.http.in.flight", inFlight, AtomicInteger::get)
                .description("generation requests being answered").register(registry);
        timeToFirstToken = latency("lora4j.time.to.first.token", "from submission to the first generated token");
        interTokenLatency = latency("lora4j.inter.token.latency", "between consecutive generated tokens of one request");
        requestDuration = latency("lora4j.request.duration", "from submission to the last token");
    }

    private <T extends Number> void engineGauge(ServingEngine engine, String name, String description,
                                                Function<EngineStats, T> field) {
        ToDoubleFunction<ServingEngine> read = e -> field.apply(e.stats()).doubleValue();
        Gauge.builder(name, engine, read).description(description).register(registry);
    }

    private Timer latency(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(LATENCY_BUCKETS)
                .minimumExpectedValue(LATENCY_BUCKETS[0]).maximumExpectedValue(LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1])
                .register(registry);
    }

    /** One answered HTTP request. */
    public void request(String endpoint, int status) {
        Counter.builder("lora4j.http.requests").description("HTTP requests answered, by endpoint and status")
                .tag("endpoint", endpoint).tag("status", Integer.toString(status)).register(registry).increment();
    }

    public void timeToFirstToken(long nanos) {
        timeToFirstToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void interTokenLatency(long nanos) {
        interTokenLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void requestDuration(long nanos) {
        requestDuration.record(nanos, TimeUnit.NANOSECONDS);
    }

    public AtomicInteger inFlight() {
        return inFlight;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }
}
