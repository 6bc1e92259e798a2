package dev.lora4j.bench;

import dev.lora4j.kernels.GemmConfig;
import dev.lora4j.kernels.Matmul;
import dev.lora4j.kernels.Parallel;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;

/**
 * lora4j's matmul alone, GFLOP/s per shape and form, one JSON line each: the Java side of
 * tools/device-bench.sh (compared there with torch.matmul by tools/bench/torch_matmul.py, on a host
 * without OpenBLAS or a JDK build) and of a thread sweep (one process per thread count, since the
 * pool's size is fixed at start by -Dlora4j.threads).
 *
 * <p>Each line also gives the bytes the whole JVM allocated per call (all threads): the GEMM
 * allocates a few small objects per call, so anything above a few KB means C2 boxed vectors of the
 * micro-kernel (a 12x2 tile that spilled its 24 accumulators to the heap would show megabytes).
 *
 * <p>Usage: MatmulGflops [--shapes MxNxK,...] [--forms forward,backwardInput,backwardWeight,forwardBf16]
 * [--reps N] [--warmup N] [--cpu-time]
 */
public final class MatmulGflops {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    public static void main(String[] args) {
        String shapes = "2048x2048x2048";
        String forms = "forward";
        int reps = 9;
        int warmup = 3;
        boolean cpuTime = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--shapes" -> shapes = args[++i];
                case "--forms" -> forms = args[++i];
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--cpu-time" -> cpuTime = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --shapes MxNxK,..., --forms f,..., --reps N, --warmup N, --cpu-time)");
            }
        }
        if (cpuTime && Parallel.threads() != 1) {
            throw new IllegalArgumentException("--cpu-time needs one thread (-Dlora4j.threads=1)");
        }
        for (String s : shapes.split(",")) {
            int[] mnk = Arrays.stream(s.trim().split("x")).mapToInt(Integer::parseInt).toArray();
            for (String form : forms.split(",")) {
                measure(mnk[0], mnk[1], mnk[2], form.trim(), reps, warmup, cpuTime);
            }
        }
    }

    private static void measure(int m, int n, int k, String form, int reps, int warmup, boolean cpuTime) {
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(42);
            Tensor x = random(arena, rnd, m, k);
            Tensor w = random(arena, rnd, n, k);
            Tensor dy = random(arena, rnd, m, n);
            Tensor wBf16 = w.copy(arena, DType.BF16);
            Runnable call = switch (form) {
                case "forward" -> {
                    Tensor y = Tensor.allocate(arena, DType.F32, m, n);
                    yield () -> Matmul.forward(x, w, y, false);
                }
                case "forwardBf16" -> {
                    Tensor y = Tensor.allocate(arena, DType.F32, m, n);
                    yield () -> Matmul.forward(x, wBf16, y, false);
                }
                case "backwardInput" -> {
                    Tensor dx = Tensor.allocate(arena, DType.F32, m, k);
                    yield () -> Matmul.backwardInput(dy, w, dx, false);
                }
                case "backwardWeight" -> {
                    Tensor dw = Tensor.allocate(arena, DType.F32, n, k);
                    yield () -> Matmul.backwardWeight(dy, x, dw, false);
                }
                default -> throw new IllegalArgumentException("unknown form " + form);
            };
            for (int i = 0; i < warmup; i++) {
                call.run();
            }
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            double flops = 2.0 * m * n * k;
            // Small products take a millisecond or less on many cores: each sample times several
            // calls back to back (as a training step makes them), about 4 GFLOP's worth.
            int calls = (int) Math.max(1, Math.min(50, 4e9 / flops));
            double[] seconds = new double[reps];
            long allocated = 0;
            for (int i = 0; i < reps; i++) {
                long a0 = mx.getTotalThreadAllocatedBytes();
                long t0 = cpuTime ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                for (int c = 0; c < calls; c++) {
                    call.run();
                }
                long t1 = cpuTime ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                allocated += mx.getTotalThreadAllocatedBytes() - a0;
                seconds[i] = (t1 - t0) * 1e-9 / calls;
            }
            StringBuilder inOrder = new StringBuilder("[");
            for (double t : seconds) {
                inOrder.append(inOrder.length() > 1 ? ", " : "").append(String.format(Locale.ROOT, "%.2f", t * 1e3));
            }
            inOrder.append(']');
            Arrays.sort(seconds);
            double median = reps % 2 == 1 ? seconds[reps / 2] : 0.5 * (seconds[reps / 2 - 1] + seconds[reps / 2]);
            System.out.printf(Locale.ROOT,
                    "{\"side\": \"lora4j\", \"shape\": \"%dx%dx%d\", \"form\": \"%s\", \"threads\": %d, \"tile\": \"%s\","
                            + " \"lanes\": %d, \"timer\": \"%s\", \"median_gflops\": %.1f, \"best_gflops\": %.1f,"
                            + " \"alloc_bytes_per_call\": %d, \"config\": \"%s\", \"profile\": \"%s\", \"times_ms\": %s}%n",
                    m, n, k, form, Parallel.threads(), GemmConfig.tile(),
                    FloatVector.SPECIES_PREFERRED.length(), cpuTime ? "thread-cpu" : "wall",
                    flops / median / 1e9, flops / seconds[0] / 1e9, allocated / ((long) reps * calls),
                    GemmConfig.describe(), GemmConfig.profile(), inOrder);
        }
    }

    private static Tensor random(Arena arena, SplittableRandom rnd, int rows, int cols) {
        Tensor t = Tensor.allocate(arena, DType.F32, rows, cols);
        MemorySegment seg = t.segment();
        long count = t.numel();
        for (long i = 0; i < count; i++) {
            seg.setAtIndex(F32, i, (float) (rnd.nextDouble() * 2 - 1));
        }
        return t;
    }
}
