package dev.lora4j.serve.engine;

import dev.lora4j.generate.FinishReason;
import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.TextStream;
import dev.lora4j.generate.TokenChooser;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.nn.KvCache;
import dev.lora4j.tokenizer.Tokenizer;

/**
 * One request inside the engine: its prompt and how much of it has been prefilled, its KV cache,
 * its own token chooser (seeded per request, so sampled output does not depend on the batch), and
 * its output so far. Touched by the engine thread only, except {@link #cancel}.
 *
 * <p>The decisions after each step are those of {@link dev.lora4j.generate.Generator} for one
 * sequence: choose a token from the logits, then stop on a stop token, a stop string, the request's
 * allowance or the model's last position, in that order.
 */
final class RunningSequence implements Submission {
    final EngineRequest request;
    final CompletionListener listener;
    final AdapterStore.Entry adapterOrNull;
    final long kvBytes;
    final long submittedNanos;
    private final GenerationConfig config;
    private final TokenChooser chooser;
    private final boolean[] seen;
    private final TextStream text;
    private final int maxPositions;
    private final int capacity;
    private final int numLayers;
    private final int kvWidth;

    KvCache.Sequence kv;          // allocated at admission
    int prefilled;                // prompt tokens already in the cache
    int nextPosition;             // position of the next token fed
    int lastToken = -1;           // generated, waiting to be fed (decoding)
    int generated;
    private volatile boolean cancelled;
    boolean done;

    RunningSequence(EngineRequest request, CompletionListener listener, AdapterStore.Entry adapterOrNull, Tokenizer tokenizer,
                    int vocab, int maxPositions, int numLayers, int kvWidth) {
        this.request = request;
        this.listener = listener;
        this.adapterOrNull = adapterOrNull;
        this.config = request.config();
        this.chooser = new TokenChooser(config);
        this.seen = new boolean[vocab];
        for (int id : request.promptIds()) {
            seen[id] = true;
        }
        this.text = tokenizer == null ? null : new TextStream(tokenizer, request.promptIds(), config.stopStrings());
        this.maxPositions = maxPositions;
        this.numLayers = numLayers;
        this.kvWidth = kvWidth;
        // Every generated token but the last is fed back, and none at or past the model's last position.
        this.capacity = Math.max(1, Math.min(request.promptIds().length + config.maxNewTokens() - 1, maxPositions));
        this.kvBytes = KvCache.Sequence.bytes(numLayers, capacity, kvWidth);
        this.submittedNanos = System.nanoTime();
    }

    void allocateCache() {
        kv = new KvCache.Sequence(numLayers, capacity, kvWidth);
    }

    LoraModel adapterWeights() {
        return adapterOrNull == null ? null : adapterOrNull.weights();
    }

    int promptLength() {
        return request.promptIds().length;
    }

    boolean prefilling() {
        return prefilled < promptLength();
    }

    /**
     * Prompt tokens the next prefill step may take, at most {@code budget}: the whole rest, or a
     * chunk that never leaves a single token behind. A one-token step is a decode step to the model
     * (it streams the weights), so a prompt's last token must not be prefilled alone unless the whole
     * prompt is one token, as {@code lora4j generate} would prefill it.
     */
    int nextChunk(int budget) {
        int rest = promptLength() - prefilled;
        if (rest <= budget) {
            return rest;
        }
        return rest - budget == 1 ? budget - 1 : budget;
    }

    /** Chooses the next token from this sequence's logits row; true when the sequence is finished. */
    boolean accept(float[] logits) {
        int id = chooser.choose(logits, seen);
        seen[id] = true;
        generated++;
        notify(() -> listener.onToken(id));
        FinishReason reason = null;
        if (config.stopTokenIds().contains(id)) {
            reason = FinishReason.STOP_TOKEN;
        } else if (text != null) {
            String piece = text.add(id);
            if (!piece.isEmpty()) {
                notify(() -> listener.onText(piece));
            }
            if (text.stopped()) {
                reason = FinishReason.STOP_STRING;
            }
        }
        if (reason == null && (generated == config.maxNewTokens() || nextPosition >= maxPositions)) {
            reason = FinishReason.LENGTH;
        }
        if (reason != null) {
            finish(reason);
            return true;
        }
        lastToken = id;
        return false;
    }

    /** Ends the request: the rest of the text, then onFinish (reason null: cancelled). */
    void finish(FinishReason reasonOrNull) {
        if (done) {
            return;
        }
        done = true;
        String all = "";
        if (text != null) {
            if (reasonOrNull != null) {
                String rest = text.finish();
                if (!rest.isEmpty()) {
                    notify(() -> listener.onText(rest));
                }
            }
            all = text.text();
        }
        String whole = all;
        notify(() -> listener.onFinish(reasonOrNull, promptLength(), generated, whole));
    }

    /**
     * Calls the listener on the engine thread; a listener that throws (its client went away) must
     * not stop the engine, so its request is cancelled instead.
     */
    private void notify(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            java.util.logging.Logger.getLogger(ServingEngine.class.getName()).log(java.util.logging.Level.FINE,
                    "a completion listener failed; cancelling its request", e);
            cancelled = true;
        }
    }

    void fail(Throwable error) {
        if (!done) {
            done = true;
            notify(() -> listener.onError(error));
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }
}
