package dev.lora4j.serve.engine;

import dev.lora4j.lora.AdapterRouting;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import dev.lora4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Many requests, many adapters, one base model: the continuous-batching engine behind {@code lora4j serve}.
 *
 * <p>One engine thread runs the model. Each turn of its loop:
 * <ol>
 *   <li>admits waiting requests, oldest first, while the batch has room and their whole KV cache
 *       (prompt + allowance) fits the KV budget: a request waits rather than fails, and what a
 *       finished or cancelled request held is returned at once;</li>
 *   <li>prefills one chunk of the prompts being read: a step of up to {@code prefillChunk} tokens,
 *       from one or several prompts cut to one chunk length, so a long prompt is read a chunk per
 *       turn while the others keep decoding;</li>
 *   <li>decodes one token for every sequence whose prompt is read: one step of one token per
 *       sequence, whatever their lengths and adapters.</li>
 * </ol>
 * In both steps the sequences are ordered by adapter and the model's linear layers add each
 * group's low-rank term to its own rows only ({@link AdapterRouting}): the frozen projections run
 * once over the whole batch. Requests for the base model take no LoRA work.
 *
 * <p>A request's output does not depend on what else runs: every kernel of an inference step
 * computes a row the same way whatever the other rows ({@link dev.lora4j.kernels.Matmul#rowsBy}),
 * attention reads only the sequence's own cache, and each request draws from its own seeded
 * chooser. So greedy output equals {@code lora4j generate}'s token for token, and a seed
 * reproduces a sampled one.
 */
public final class ServingEngine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ServingEngine.class.getName());

    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final EngineOptions options;
    private final AdapterStore adapters;
    private final AdapterRouting routing;
    private final int kvWidth;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    private final Condition emptied = lock.newCondition();
    private final ArrayDeque<RunningSequence> waiting = new ArrayDeque<>();   // guarded by lock
    private long kvBytesInUse;                                                 // guarded by lock
    private int runningCount;                                                  // guarded by lock
    private final List<RunningSequence> running = new ArrayList<>();          // engine thread only

    private volatile boolean draining;
    private volatile boolean closed;
    private volatile int lastBatchSize;
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final Thread thread;

    /**
     * @param model            the base model; the engine owns it from now on (attaches its adapter router)
     * @param tokenizer        turns generated ids into text and finds stop strings (null: no text, ids only)
     * @param adapterRootOrNull adapters under it are found by name on first use, and the admin API may
     *                         load only from inside it; null: neither
     */
    public ServingEngine(CausalLM model, Tokenizer tokenizer, EngineOptions options, Path adapterRootOrNull) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options;
        this.adapters = new AdapterStore(model, adapterRootOrNull, options.maxLoadedAdapters());
        this.routing = AdapterRouting.install(model);
        this.kvWidth = model.config().numKvHeads() * model.config().headDim();
        this.thread = Thread.ofPlatform().name("lora4j-engine").daemon().unstarted(this::loop);
        thread.start();
    }

    public ModelConfig config() {
        return model.config();
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
        if (draining) {
            throw new EngineException.Draining("the server is shutting down and takes no new requests");
        }
        ModelConfig config = model.config();
        int[] prompt = request.promptIds();
        for (int id : prompt) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new EngineException.BadRequest("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        if (prompt.length >= config.maxPositions()) {
            throw new EngineException.BadRequest("the prompt has " + prompt.length + " tokens; this model's context is "
                    + config.maxPositions() + " tokens, which must hold the prompt and at least one generated token");
        }
        AdapterStore.Entry adapter = request.adapterOrNull() == null ? null : adapters.acquire(request.adapterOrNull());
        RunningSequence seq = new RunningSequence(request, listener, adapter, tokenizer, config.vocabSize(),
                config.maxPositions(), config.numLayers(), kvWidth);
        lock.lock();
        try {
            String refusal = null;
            if (draining) {
                refusal = "draining";
            } else if (seq.kvBytes > options.kvBudgetBytes()) {
                refusal = "budget";
            } else if (waiting.size() >= options.maxQueue()) {
                refusal = "queue";
            }
            if (refusal != null) {
                if (adapter != null) {
                    adapters.release(adapter);
                }
                throw switch (refusal) {
                    case "draining" -> new EngineException.Draining("the server is shutting down and takes no new requests");
                    case "budget" -> new EngineException.BadRequest("the request's KV cache (" + prompt.length
                            + " prompt + " + request.config().maxNewTokens() + " new tokens: " + seq.kvBytes
                            + " bytes) is larger than the server's whole KV budget of " + options.kvBudgetBytes()
                            + " bytes; ask for fewer tokens");
                    default -> new EngineException.QueueFull(waiting.size() + " requests are already waiting");
                };
            }
            waiting.add(seq);
            workArrived.signal();
        } finally {
            lock.unlock();
        }
        return seq;
    }

    /** Registers and loads the adapter in {@code dir} (any path: for adapters named on the command line). */
    public void addAdapter(String name, Path dir) {
        adapters.register(name, dir);
    }

    /**
     * The admin API's load: {@code path} (absolute, or relative to the adapter root) must resolve,
     * symbolic links followed, inside the adapter root. Loads now, so bad files are reported now;
     * a name already in use is refused.
     */
    public void loadAdapter(String name, String path) {
        adapters.registerUnderRoot(name, path);
    }

    /** Forgets the adapter; running requests that use it finish first. False when unknown. */
    public boolean unloadAdapter(String name) {
        return adapters.unregister(name);
    }

    /** Every adapter a request may name: registered ones and those under the adapter root. */
    public List<String> adapterNames() {
        return adapters.names();
    }

    public boolean hasAdapter(String name) {
        return adapters.contains(name);
    }

    /** Bytes of adapter weights in memory. */
    public long adapterBytes() {
        return adapters.loadedBytes();
    }

    public EngineStats stats() {
        lock.lock();
        try {
            return new EngineStats(waiting.size(), runningCount, lastBatchSize, kvBytesInUse, options.kvBudgetBytes(),
                    adapters.loadedCount(), promptTokens.get(), generatedTokens.get(), steps.get(), draining);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops admitting requests (submit throws {@link EngineException.Draining}), lets the running and
     * queued ones finish for up to {@code timeout}, then cancels what is left. True when none had to be cancelled.
     */
    public boolean drain(Duration timeout) {
        draining = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            workArrived.signal();
            while (!idle()) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !thread.isAlive()) {
                    break;
                }
                emptied.awaitNanos(left);
            }
            if (idle()) {
                return true;
            }
            for (RunningSequence s : waiting) {
                s.cancel();
            }
            cancelRunning = true;
            workArrived.signal();
            while (!idle() && thread.isAlive()) {
                emptied.await(100, TimeUnit.MILLISECONDS);
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    private volatile boolean cancelRunning;

    private boolean idle() {
        return waiting.isEmpty() && runningCount == 0;
    }

    /** Drains with no wait and stops the engine thread. */
    @Override
    public void close() {
        drain(Duration.ZERO);
        closed = true;
        lock.lock();
        try {
            workArrived.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the engine thread ----------------------------------------------------------------

    private void loop() {
        while (true) {
            List<RunningSequence> admitted;
            try {
                admitted = admit();
            } catch (InterruptedException e) {
                return;
            }
            if (admitted == null) {
                return;   // closed and idle
            }
            for (RunningSequence s : admitted) {
                s.allocateCache();
                running.add(s);
            }
            try {
                for (RunningSequence s : running) {
                    if (!s.done && (s.cancelled() || cancelRunning)) {
                        s.finish(null);
                    }
                }
                releaseDone();
                prefillStep();
                decodeStep();
            } catch (RuntimeException | Error e) {
                // A bug outside a model step (those fail only their sequences): fail what is running, keep serving.
                LOG.log(Level.SEVERE, "engine turn failed", e);
                for (RunningSequence s : running) {
                    s.fail(e);
                }
            }
            releaseDone();
        }
    }

    /** Moves waiting requests into the batch while they fit; waits while there is nothing to do. Null: stop. */
    private List<RunningSequence> admit() throws InterruptedException {
        List<RunningSequence> admitted = new ArrayList<>();
        List<RunningSequence> cancelled = new ArrayList<>();
        lock.lock();
        try {
            while (true) {
                for (var it = waiting.iterator(); it.hasNext(); ) {
                    RunningSequence s = it.next();
                    if (s.cancelled()) {
                        it.remove();
                        cancelled.add(s);
                    }
                }
                while (!waiting.isEmpty() && runningCount < options.maxBatch()
                        && kvBytesInUse + waiting.peek().kvBytes <= options.kvBudgetBytes()) {
                    RunningSequence s = waiting.poll();
                    kvBytesInUse += s.kvBytes;
                    runningCount++;
                    admitted.add(s);
                }
                if (runningCount > 0 || !cancelled.isEmpty()) {
                    break;
                }
                if (waiting.isEmpty()) {
                    emptied.signalAll();
                    if (closed) {
                        return null;
                    }
                }
                workArrived.await();
            }
        } finally {
            lock.unlock();
        }
        for (RunningSequence s : cancelled) {
            s.finish(null);
            if (s.adapterOrNull != null) {
                adapters.release(s.adapterOrNull);
            }
        }
        signalIfIdle();
        return admitted;
    }

    /** Returns the KV memory and adapters of finished sequences. */
    private void releaseDone() {
        List<RunningSequence> done = new ArrayList<>();
        running.removeIf(s -> {
            if (s.done) {
                done.add(s);
                return true;
            }
            return false;
        });
        if (done.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            for (RunningSequence s : done) {
                s.kv = null;
                kvBytesInUse -= s.kvBytes;
                runningCount--;
                if (s.adapterOrNull != null) {
                    adapters.release(s.adapterOrNull);
                }
            }
            if (runningCount == 0) {
                cancelRunning = false;
            }
            if (idle()) {
                emptied.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    private void signalIfIdle() {
        lock.lock();
        try {
            if (idle()) {
                emptied.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** One chunk of prompt tokens, for one or several prompts cut to the same chunk length. */
    private void prefillStep() {
        int budget = options.prefillChunk();
        List<RunningSequence> chunk = new ArrayList<>();
        int t = 0;
        for (RunningSequence s : running) {
            if (s.done || !s.prefilling()) {
                continue;
            }
            if (chunk.isEmpty()) {
                t = s.nextChunk(budget);
                chunk.add(s);
            } else if ((chunk.size() + 1) * t <= budget && canTakeChunk(s, t)) {
                chunk.add(s);
            }
        }
        if (chunk.isEmpty()) {
            return;
        }
        sortByAdapter(chunk);
        int b = chunk.size();
        int[] ids = new int[b * t];
        int[] positions = new int[b * t];
        int[] mask = new int[b * t];
        Arrays.fill(mask, 1);
        for (int i = 0; i < b; i++) {
            RunningSequence s = chunk.get(i);
            System.arraycopy(s.request.promptIds(), s.prefilled, ids, i * t, t);
            for (int j = 0; j < t; j++) {
                positions[i * t + j] = s.prefilled + j;
            }
        }
        Tensor logits = run(chunk, new TokenBatch(b, t, ids, mask, positions));
        if (logits == null) {
            return;
        }
        promptTokens.addAndGet((long) b * t);
        float[] row = new float[model.config().vocabSize()];
        for (int i = 0; i < b; i++) {
            RunningSequence s = chunk.get(i);
            s.prefilled += t;
            if (!s.prefilling()) {
                s.nextPosition = s.promptLength();
                logits.readRow(i, row);
                generatedTokens.incrementAndGet();
                s.accept(row);
            }
        }
    }

    /**
     * Whether {@code s} may prefill {@code t} tokens in this step: all of its rest, or a part that does
     * not leave a single token behind; a one-token chunk only for a one-token prompt (see
     * {@link RunningSequence#nextChunk}).
     */
    private static boolean canTakeChunk(RunningSequence s, int t) {
        int rest = s.promptLength() - s.prefilled;
        if (t == 1) {
            return rest == 1 && s.promptLength() == 1;
        }
        return rest == t || (rest > t && rest - t != 1);
    }

    /** One new token for every sequence whose prompt has been read. */
    private void decodeStep() {
        List<RunningSequence> batch = new ArrayList<>();
        for (RunningSequence s : running) {
            if (!s.done && !s.prefilling() && s.lastToken >= 0) {
                batch.add(s);
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        sortByAdapter(batch);
        int b = batch.size();
        int[] ids = new int[b];
        int[] positions = new int[b];
        int[] mask = new int[b];
        Arrays.fill(mask, 1);
        for (int i = 0; i < b; i++) {
            ids[i] = batch.get(i).lastToken;
            positions[i] = batch.get(i).nextPosition;
        }
        Tensor logits = run(batch, new TokenBatch(b, 1, ids, mask, positions));
        if (logits == null) {
            return;
        }
        lastBatchSize = b;
        float[] row = new float[model.config().vocabSize()];
        for (int i = 0; i < b; i++) {
            RunningSequence s = batch.get(i);
            s.lastToken = -1;
            s.nextPosition++;
            logits.readRow(i, row);
            generatedTokens.incrementAndGet();
            s.accept(row);
        }
    }

    /** Runs one step over the sequences' caches with their adapters; null (and the sequences failed) on error. */
    private Tensor run(List<RunningSequence> seqs, TokenBatch step) {
        List<KvCache.Sequence> caches = new ArrayList<>(seqs.size());
        List<AdapterRouting.Group> groups = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
            caches.add(seqs.get(i).kv);
            LoraModel weights = seqs.get(i).adapterWeights();
            AdapterRouting.Group last = groups.isEmpty() ? null : groups.getLast();
            if (last != null && last.adapterOrNull() == weights) {
                groups.set(groups.size() - 1, new AdapterRouting.Group(last.from(), i + 1, weights));
            } else {
                groups.add(new AdapterRouting.Group(i, i + 1, weights));
            }
        }
        try {
            routing.setGroups(groups);
            Tensor logits = model.forwardCached(step, KvCache.over(caches));
            steps.incrementAndGet();
            return logits;
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "engine step over " + seqs.size() + " sequences failed", e);
            for (RunningSequence s : seqs) {
                s.fail(e);
            }
            return null;
        }
    }

    /** Groups the sequences by adapter (base model first), keeping their order within a group. */
    private static void sortByAdapter(List<RunningSequence> seqs) {
        seqs.sort(Comparator.comparing((RunningSequence s) -> s.adapterOrNull == null ? "" : "\u0001" + s.adapterOrNull.name)
                .thenComparingInt(s -> System.identityHashCode(s.adapterWeights())));
    }
}
