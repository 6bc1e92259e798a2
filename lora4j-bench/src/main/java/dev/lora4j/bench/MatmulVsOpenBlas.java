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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.openblas.global.openblas_full;

/**
 * Matmul GFLOP/s of lora4j against OpenBLAS {@code cblas_sgemm} in the same process, same
 * thread count, same data, for the three forms a linear layer y = x·Wᵀ (x[M,K], W[N,K], y[M,N])
 * needs in training:
 * <pre>
 *   forward         y  = x · Wᵀ     sgemm(NoTrans, Trans)   M x N x K
 *   backwardInput   dx = dy · W     sgemm(NoTrans, NoTrans) M x K x N
 *   backwardWeight  dW = dyᵀ · x    sgemm(Trans, NoTrans)   N x K x M
 * </pre>
 * plus the forward form with W in BF16 (lora4j widens while packing; OpenBLAS runs F32). Each form
 * does 2·M·N·K flops. After warm-up, lora4j and OpenBLAS calls alternate (which goes first alternates
 * too) so both see the same machine noise; the median time of the repetitions is reported.
 *
 * <p>Usage: MatmulVsOpenBlas [--reps N] [--warmup N] [--shapes MxNxK,...] [--cpu-time]
 */
public final class MatmulVsOpenBlas {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    enum Form { FORWARD, BACKWARD_INPUT, BACKWARD_WEIGHT, FORWARD_BF16 }

    /** GFLOP/s from the median and from the best repetition of each library. */
    record Row(String shape, Form form, double lora, double blas, double loraBest, double blasBest) {}

    /** Wall-clock time, or (single-threaded runs only) the CPU time of the calling thread, which
     *  other processes on a busy machine cannot inflate. */
    private static boolean cpuTimer;

    public static void main(String[] args) {
        int reps = 7;
        int warmup = 3;
        String shapes = "1024x4096x1024,1024x1024x4096,2048x2048x2048";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--shapes" -> shapes = args[++i];
                case "--cpu-time" -> cpuTimer = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --reps N, --warmup N, --shapes MxNxK,..., --cpu-time)");
            }
        }
        int threads = Parallel.threads();
        if (cpuTimer && threads != 1) {
            throw new IllegalArgumentException("--cpu-time needs one thread (-Dlora4j.threads=1)");
        }
        openblas_full.openblas_set_num_threads(threads);
        System.out.printf(Locale.ROOT, "lora4j threads: %d, float vector: %d lanes, %s; OpenBLAS %s, threads: %d%n",
                threads, FloatVector.SPECIES_PREFERRED.length(), GemmConfig.describe(),
                openblas_full.openblas_get_corename().getString(), openblas_full.openblas_get_num_threads());
        System.out.printf(Locale.ROOT, "java %s; %s time, median of %d repetitions after %d warm-up, lora4j and OpenBLAS interleaved%n%n",
                System.getProperty("java.version"), cpuTimer ? "thread CPU" : "wall-clock", reps, warmup);
        List<Row> rows = new ArrayList<>();
        for (String s : shapes.split(",")) {
            int[] mnk = Arrays.stream(s.trim().split("x")).mapToInt(Integer::parseInt).toArray();
            for (Form f : Form.values()) {
                Row r = measure(mnk[0], mnk[1], mnk[2], f, reps, warmup);
                System.out.printf(Locale.ROOT, "  %s %-15s lora4j %7.1f  OpenBLAS %7.1f GFLOP/s (best: %.1f, %.1f)%n",
                        r.shape, r.form, r.lora, r.blas, r.loraBest, r.blasBest);
                rows.add(r);
            }
        }
        System.out.println();
        System.out.println("| M×N×K | form | lora4j GFLOP/s | OpenBLAS GFLOP/s | lora4j / OpenBLAS | same, best runs |");
        System.out.println("|---|---|---:|---:|---:|---:|");
        for (Row r : rows) {
            String form = switch (r.form) {
                case FORWARD -> "forward y = x·Wᵀ";
                case BACKWARD_INPUT -> "backwardInput dx = dy·W";
                case BACKWARD_WEIGHT -> "backwardWeight dW = dyᵀ·x";
                case FORWARD_BF16 -> "forward, W in BF16 (OpenBLAS: F32)";
            };
            System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.0f%% | %.0f%% |%n",
                    r.shape, form, r.lora, r.blas, 100 * r.lora / r.blas, 100 * r.loraBest / r.blasBest);
        }
    }

    private static Row measure(int m, int n, int k, Form form, int reps, int warmup) {
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(42);
            Tensor x = random(arena, rnd, m, k);
            Tensor w = random(arena, rnd, n, k);
            Tensor dy = random(arena, rnd, m, n);
            Tensor wBf16 = w.copy(arena, DType.BF16);
            Tensor out = switch (form) {
                case FORWARD, FORWARD_BF16 -> Tensor.allocate(arena, DType.F32, m, n);
                case BACKWARD_INPUT -> Tensor.allocate(arena, DType.F32, m, k);
                case BACKWARD_WEIGHT -> Tensor.allocate(arena, DType.F32, n, k);
            };
            FloatPointer px = pointer(x);
            FloatPointer pw = pointer(w);
            FloatPointer pdy = pointer(dy);
            FloatPointer pout = new FloatPointer(out.numel());
            Runnable lora = switch (form) {
                case FORWARD -> () -> Matmul.forward(x, w, out, false);
                case FORWARD_BF16 -> () -> Matmul.forward(x, wBf16, out, false);
                case BACKWARD_INPUT -> () -> Matmul.backwardInput(dy, w, out, false);
                case BACKWARD_WEIGHT -> () -> Matmul.backwardWeight(dy, x, out, false);
            };
            int row = openblas.CblasRowMajor;
            int no = openblas.CblasNoTrans;
            int tr = openblas.CblasTrans;
            Runnable blas = switch (form) {
                case FORWARD, FORWARD_BF16 -> () -> openblas.cblas_sgemm(row, no, tr, m, n, k, 1f, px, k, pw, k, 0f, pout, n);
                case BACKWARD_INPUT -> () -> openblas.cblas_sgemm(row, no, no, m, k, n, 1f, pdy, n, pw, k, 0f, pout, k);
                case BACKWARD_WEIGHT -> () -> openblas.cblas_sgemm(row, tr, no, n, k, m, 1f, pdy, n, px, k, 0f, pout, k);
            };
            for (int i = 0; i < warmup; i++) {
                lora.run();
                blas.run();
            }
            double[] tLora = new double[reps];
            double[] tBlas = new double[reps];
            for (int i = 0; i < reps; i++) {
                if (i % 2 == 0) {
                    tLora[i] = time(lora);
                    tBlas[i] = time(blas);
                } else {
                    tBlas[i] = time(blas);
                    tLora[i] = time(lora);
                }
            }
            px.close();
            pw.close();
            pdy.close();
            pout.close();
            double flops = 2.0 * m * n * k;
            return new Row(m + "×" + n + "×" + k, form, flops / median(tLora) / 1e9, flops / median(tBlas) / 1e9,
                    flops / Arrays.stream(tLora).min().orElseThrow() / 1e9, flops / Arrays.stream(tBlas).min().orElseThrow() / 1e9);
        }
    }

    private static Tensor random(Arena arena, SplittableRandom rnd, int rows, int cols) {
        Tensor t = Tensor.allocate(arena, DType.F32, rows, cols);
        MemorySegment seg = t.segment();
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            seg.setAtIndex(F32, i, (float) (rnd.nextDouble() * 2 - 1));
        }
        return t;
    }

    private static FloatPointer pointer(Tensor t) {
        float[] values = t.toFloatArray();
        FloatPointer p = new FloatPointer(values.length);
        p.put(values);
        return p;
    }

    /**
     * Each timed call starts after a 200 ms pause: OpenBLAS's worker threads busy-wait for a while
     * after a call returns, and without the pause a lora4j call that follows one shares the two
     * cores with them (its median then measured about half its speed). The pause lets both libraries
     * start from idle cores.
     */
    private static double time(Runnable r) {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long t0 = now();
        r.run();
        return (now() - t0) * 1e-9;
    }

    private static long now() {
        return cpuTimer ? ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }
}
