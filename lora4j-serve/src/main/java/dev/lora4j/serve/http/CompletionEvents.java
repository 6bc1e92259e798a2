package dev.lora4j.serve.http;

import dev.lora4j.generate.FinishReason;
import dev.lora4j.serve.engine.CompletionListener;
import dev.lora4j.serve.metrics.ServerMetrics;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One request's output, handed from the engine's thread to the thread answering the client: the
 * engine only enqueues (its calls must stay short), the request's thread takes events and writes.
 * Token timings are measured here, on the engine's side, so a slow client does not inflate them.
 */
final class CompletionEvents implements CompletionListener {
    sealed interface Event permits Text, Finished, Failed {}

    record Text(String piece) implements Event {}

    /** reason null: the engine cancelled the request (our cancel, or a drain that ran out of time). */
    record Finished(FinishReason reason, int promptTokens, int completionTokens, String text) implements Event {}

    record Failed(Throwable error) implements Event {}

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final ServerMetrics metrics;
    private final long submittedNanos;
    private long lastTokenNanos;

    CompletionEvents(ServerMetrics metrics) {
        this.metrics = metrics;
        this.submittedNanos = System.nanoTime();
    }

    @Override
    public void onToken(int tokenId) {
        long now = System.nanoTime();
        if (lastTokenNanos == 0) {
            metrics.timeToFirstToken(now - submittedNanos);
        } else {
            metrics.interTokenLatency(now - lastTokenNanos);
        }
        lastTokenNanos = now;
    }

    @Override
    public void onText(String piece) {
        if (!piece.isEmpty()) {
            events.add(new Text(piece));
        }
    }

    @Override
    public void onFinish(FinishReason reason, int promptTokens, int completionTokens, String text) {
        if (reason != null) {
            metrics.requestDuration(System.nanoTime() - submittedNanos);
        }
        events.add(new Finished(reason, promptTokens, completionTokens, text));
    }

    @Override
    public void onError(Throwable error) {
        events.add(new Failed(error));
    }

    /** The next event, or null when none came within {@code nanos}. */
    Event next(long nanos) throws InterruptedException {
        return events.poll(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }
}
