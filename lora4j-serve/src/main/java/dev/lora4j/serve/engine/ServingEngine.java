package dev.lora4j.serve.engine;

import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Many requests, many adapters, one base model: the continuous-batching engine behind {@code lora4j serve}.
 * (API fixed; implementation in progress.)
 */
public final class ServingEngine implements AutoCloseable {

    /**
     * @param model            the base model; the engine owns it from now on (attaches its adapter router)
     * @param tokenizer        turns generated ids into text and finds stop strings
     * @param adapterRootOrNull adapters under it are found by name on first use, and the admin API may
     *                         load only from inside it; null: neither
     */
    public ServingEngine(CausalLM model, Tokenizer tokenizer, EngineOptions options, Path adapterRootOrNull) {
        throw new UnsupportedOperationException("in progress");
    }

    public ModelConfig config() {
        throw new UnsupportedOperationException("in progress");
    }

    /**
     * Queues a request; output comes to {@code listener} on the engine's thread.
     *
     * @throws EngineException.QueueFull      the waiting queue is full
     * @throws EngineException.Draining       the engine is shutting down
     * @throws EngineException.UnknownAdapter no adapter of that name
     * @throws EngineException.BadAdapter     the adapter's files could not be loaded (on first use)
     * @throws EngineException.BadRequest     prompt + max new tokens exceed the model's positions or the KV budget
     */
    public Submission submit(EngineRequest request, CompletionListener listener) {
        throw new UnsupportedOperationException("in progress");
    }

    /** Registers and loads the adapter in {@code dir} (any path: for adapters named on the command line). */
    public void addAdapter(String name, Path dir) {
        throw new UnsupportedOperationException("in progress");
    }

    /**
     * The admin API's load: {@code path} (absolute, or relative to the adapter root) must resolve,
     * symbolic links followed, inside the adapter root. Loads now, so bad files are reported now;
     * a name already in use is refused.
     */
    public void loadAdapter(String name, String path) {
        throw new UnsupportedOperationException("in progress");
    }

    /** Forgets the adapter; running requests that use it finish first. False when unknown. */
    public boolean unloadAdapter(String name) {
        throw new UnsupportedOperationException("in progress");
    }

    /** Every adapter a request may name: registered ones and those under the adapter root. */
    public List<String> adapterNames() {
        throw new UnsupportedOperationException("in progress");
    }

    public boolean hasAdapter(String name) {
        throw new UnsupportedOperationException("in progress");
    }

    public EngineStats stats() {
        throw new UnsupportedOperationException("in progress");
    }

    /**
     * Stops admitting requests (submit throws {@link EngineException.Draining}), lets the running and
     * queued ones finish for up to {@code timeout}, then cancels what is left. True when none had to be cancelled.
     */
    public boolean drain(Duration timeout) {
        throw new UnsupportedOperationException("in progress");
    }

    /** Drains with no wait and stops the engine thread. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("in progress");
    }
}
