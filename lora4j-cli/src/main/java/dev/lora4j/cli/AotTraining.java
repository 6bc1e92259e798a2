package dev.lora4j.cli;

import dev.lora4j.tensor.DType;
import dev.lora4j.warmup.JitWarmup;
import java.io.PrintStream;

/**
 * The workload the launcher runs once, after each build, under {@code -XX:AOTCacheOutput} to
 * create the JDK's ahead-of-time cache (JEP 483/514/515) in lora4j-cli/target/lora4j.aot: the
 * command line's classes (picocli builds every command's model even for --help), and the model,
 * generation, training and kernel classes with their method profiles, from the JIT warm-up's
 * tiny model in F32 and BF16. Later JVMs started with {@code -XX:AOTCache} load and link those
 * classes from the cache instead of parsing and verifying the jars.
 */
final class AotTraining {
    private AotTraining() {}

    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream()));
        try {
            Main.run("--version");
            for (String command : new String[] {"generate", "chat", "train", "eval", "inspect", "sysinfo"}) {
                Main.run(command, "--help");
            }
        } finally {
            System.setOut(out);
        }
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            JitWarmup.runNow(JitWarmup.Workload.GENERATE, dtype, 20);
            JitWarmup.runNow(JitWarmup.Workload.TRAIN, dtype, 3);
        }
    }
}
