package dev.lora4j.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
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
 *
 * <p>A training step makes several hundred kernel calls in a row, a few microseconds apart. Waking
 * a parked thread costs 50–100 µs on these machines, and the caller's half then finishes that much
 * before the helper's. So a helper that has finished its share keeps polling for the next one for a
 * short while ({@code lora4j.spinMicros}, default 200) before it parks, and the caller polls for
 * the helpers' completion the same way. Between training steps, or when nothing calls the kernels,
 * the helpers sleep.
 *
 * <p>One caller at a time uses the helpers; a second thread calling while they are busy runs all
 * its chunks itself (same chunks, same results), as does a call made from inside a chunk.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1, Integer.getInteger("lora4j.threads", Runtime.getRuntime().availableProcessors()));
    private static final long SPIN_NANOS = 1000L * Math.max(0, Integer.getInteger("lora4j.spinMicros", 200));
    private static final ThreadLocal<Boolean> ON_HELPER = ThreadLocal.withInitial(() -> false);
    private static final Helper[] HELPERS = new Helper[THREADS - 1];
    private static final AtomicBoolean IN_USE = new AtomicBoolean();

    static {
        for (int i = 0; i < HELPERS.length; i++) {
            HELPERS[i] = new Helper(i + 1);
            HELPERS[i].start();
        }
    }

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
        if (participants == 1 || ON_HELPER.get() || !IN_USE.compareAndSet(false, true)) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        Job job = new Job(n, participants, body);
        try {
            for (int p = 1; p < participants; p++) {
                HELPERS[p - 1].hand(job);
            }
            job.runShare(0);
            job.awaitHelpers();
        } finally {
            IN_USE.set(false);
        }
        job.rethrow();
    }

    /** One forEach call: the chunks, who has finished, and the first failure. */
    private static final class Job {
        final int n;
        final int participants;
        final IntConsumer body;
        final Thread caller = Thread.currentThread();
        final AtomicInteger helpersLeft;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile boolean callerParked;

        Job(int n, int participants, IntConsumer body) {
            this.n = n;
            this.participants = participants;
            this.body = body;
            this.helpersLeft = new AtomicInteger(participants - 1);
        }

        void runShare(int participant) {
            try {
                for (int i = participant; i < n; i += participants) {
                    body.accept(i);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }

        /** A helper is done with its share. */
        void arrive() {
            // Dekker-style with awaitHelpers: it sets callerParked then rereads helpersLeft, we
            // decrement helpersLeft then read callerParked, so one of us sees the other's write.
            if (helpersLeft.decrementAndGet() == 0 && callerParked) {
                LockSupport.unpark(caller);
            }
        }

        /** Polls for the helpers, then parks; the helpers are writing into the caller's buffers, so it waits them out even when interrupted. */
        void awaitHelpers() {
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (helpersLeft.get() != 0) {
                if (System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                    continue;
                }
                callerParked = true;
                if (helpersLeft.get() == 0) {
                    break;
                }
                LockSupport.park(this);
            }
        }

        void rethrow() {
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
    }

    /** A helper thread: runs participant {@code index}'s share of each job it is handed. */
    private static final class Helper extends Thread {
        private final int index;
        private volatile Job job;
        private volatile boolean parked;

        Helper(int index) {
            super("lora4j-kernel-" + index);
            this.index = index;
            setDaemon(true);
        }

        void hand(Job j) {
            job = j;
            if (parked) {  // see awaitJob: it announces parking, then rereads job
                LockSupport.unpark(this);
            }
        }

        @Override
        public void run() {
            ON_HELPER.set(true);
            while (true) {
                Job j = awaitJob();
                j.runShare(index);
                job = null;       // cleared before arriving: the next hand() can only come after
                j.arrive();
            }
        }

        private Job awaitJob() {
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (true) {
                Job j = job;
                if (j != null) {
                    return j;
                }
                if (System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                j = job;
                if (j == null) {
                    LockSupport.park(this);
                }
                parked = false;
                deadline = System.nanoTime() + SPIN_NANOS;
            }
        }
    }
}
