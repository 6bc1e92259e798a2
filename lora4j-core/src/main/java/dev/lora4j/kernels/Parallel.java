package dev.lora4j.kernels;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The threads all kernels share, as many as the machine has cores (or the system property
 * {@code lora4j.threads}): the calling thread plus {@code threads − 1} helpers.
 *
 * <p>Work is split into a fixed number of chunks and chunk i always runs on participant
 * {@code i mod threads}, the caller being participant 0. That makes results independent of
 * scheduling (every kernel is deterministic for a given thread count) and guarantees the chunks
 * really run side by side: with fork/join work stealing, a worker that finished its half before a
 * sleeping peer woke up would take back the other half and run it too, which made a two-thread
 * matmul run at one thread's speed in about half the calls.
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("lora4j.threads", Runtime.getRuntime().availableProcessors());
    private static final ThreadLocal<Boolean> ON_HELPER = ThreadLocal.withInitial(() -> false);
    private static final ExecutorService HELPERS = THREADS <= 1 ? null : Executors.newFixedThreadPool(THREADS - 1, r -> {
        Thread t = new Thread(() -> {
            ON_HELPER.set(true);
            r.run();
        }, "lora4j-kernel");
        t.setDaemon(true);
        return t;
    });

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /** Runs {@code body.accept(i)} for i in [0, n), spread over the threads; returns when all are done. */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        int participants = Math.min(n, THREADS);
        if (HELPERS == null || participants == 1 || ON_HELPER.get()) {  // nested calls run inline
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        CountDownLatch done = new CountDownLatch(participants - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int p = 1; p < participants; p++) {
            int participant = p;
            HELPERS.execute(() -> {
                try {
                    runShare(participant, participants, n, body);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            runShare(0, participants, n, body);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;  // the helpers are still writing into our buffers: wait them out
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    private static void runShare(int participant, int participants, int n, IntConsumer body) {
        for (int i = participant; i < n; i += participants) {
            body.accept(i);
        }
    }
}
