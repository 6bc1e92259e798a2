package dev.lora4j.serve.engine;

/** Why the engine refused a request or an adapter operation; the subclasses map to HTTP statuses. */
public class EngineException extends RuntimeException {
    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The waiting queue is full (HTTP 429: try again later). */
    public static final class QueueFull extends EngineException {
        public QueueFull(String message) {
            super(message);
        }
    }

    /** The engine is draining for shutdown and takes no new requests (HTTP 503). */
    public static final class Draining extends EngineException {
        public Draining(String message) {
            super(message);
        }
    }

    /** No adapter of that name is loaded or can be found under the adapter root (HTTP 404). */
    public static final class UnknownAdapter extends EngineException {
        public UnknownAdapter(String message) {
            super(message);
        }
    }

    /** An adapter could not be loaded: bad files, another base, a path outside the root (HTTP 400). */
    public static final class BadAdapter extends EngineException {
        public BadAdapter(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The request cannot run on this model: too long for its positions, or more than the KV budget (HTTP 400). */
    public static final class BadRequest extends EngineException {
        public BadRequest(String message) {
            super(message);
        }
    }
}
