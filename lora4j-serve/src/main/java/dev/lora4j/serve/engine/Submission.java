package dev.lora4j.serve.engine;

/** A request the engine has accepted. */
public interface Submission {
    /**
     * Stops the request (a client went away, or its time ran out): its sequence leaves the batch
     * before the next step and its KV memory is returned. The listener then gets
     * {@code onFinish(null, ...)}. Cancelling a finished request does nothing.
     */
    void cancel();
}
