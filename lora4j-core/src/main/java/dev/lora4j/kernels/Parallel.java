package dev.lora4j.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The one thread pool all kernels share, sized to the machine (or to the system property
 * {@code lora4j.threads}). Work is split into a fixed number of chunks so that results do not
 * depend on scheduling: every kernel is deterministic for a given thread count.
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("lora4j.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = THREADS <= 1 ? null : new ForkJoinPool(THREADS);

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /** Runs {@code body.accept(i)} for i in [0, n), spread over the pool; returns when all are done. */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        if (POOL == null || n == 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        if (ForkJoinTask.getPool() == POOL) {  // already on a worker: don't nest, run inline
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        POOL.invoke(new Range(0, n, body));
    }

    private static final class Range extends RecursiveAction {
        private final int from;
        private final int to;
        private final transient IntConsumer body;

        Range(int from, int to, IntConsumer body) {
            this.from = from;
            this.to = to;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(from, mid, body), new Range(mid, to, body));
        }
    }
}
