package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyChunkRunsOnceOnItsParticipant() {
        int n = 37;
        for (int call = 0; call < 200; call++) {
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            ConcurrentHashMap<Integer, String> threadOf = new ConcurrentHashMap<>();
            Parallel.forEach(n, i -> {
                runs.incrementAndGet(i);
                threadOf.put(i, Thread.currentThread().getName());
            });
            for (int i = 0; i < n; i++) {
                assertThat(runs.get(i)).as("chunk %d", i).isEqualTo(1);
                // chunk i runs where chunk i mod threads runs: the caller for participant 0
                assertThat(threadOf.get(i)).isEqualTo(threadOf.get(i % Parallel.threads()));
            }
            assertThat(threadOf.get(0)).isEqualTo(Thread.currentThread().getName());
        }
    }

    @Test
    void worksAfterTheHelpersHaveGoneToSleep() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            Thread.sleep(5);  // far beyond the spin time: the helpers park
            AtomicLong sum = new AtomicLong();
            Parallel.forEach(1000, i -> sum.addAndGet(i));
            assertThat(sum.get()).isEqualTo(999L * 1000 / 2);
        }
    }

    @Test
    void aFailureInAnyChunkReachesTheCallerAndThePoolStaysUsable() {
        for (int bad = 0; bad < 4; bad++) {
            int failing = bad;
            assertThatThrownBy(() -> Parallel.forEach(4, i -> {
                if (i == failing) {
                    throw new IllegalStateException("chunk " + i);
                }
            })).isInstanceOf(IllegalStateException.class).hasMessage("chunk " + bad);
        }
        AtomicLong count = new AtomicLong();
        Parallel.forEach(8, i -> count.incrementAndGet());
        assertThat(count.get()).isEqualTo(8);
    }

    @Test
    void nestedAndConcurrentCallsRunEveryChunk() throws Exception {
        AtomicLong inner = new AtomicLong();
        Parallel.forEach(4, i -> Parallel.forEach(5, j -> inner.incrementAndGet()));
        assertThat(inner.get()).isEqualTo(20);

        // Two threads calling at once: whichever finds the helpers busy runs its chunks itself.
        AtomicLong a = new AtomicLong();
        AtomicLong b = new AtomicLong();
        Thread other = new Thread(() -> {
            for (int r = 0; r < 500; r++) {
                Parallel.forEach(16, i -> b.incrementAndGet());
            }
        });
        other.start();
        for (int r = 0; r < 500; r++) {
            Parallel.forEach(16, i -> a.incrementAndGet());
        }
        other.join();
        assertThat(a.get()).isEqualTo(8000);
        assertThat(b.get()).isEqualTo(8000);
    }
}
