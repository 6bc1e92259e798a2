package dev.lora4j.cli;

import dev.lora4j.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import picocli.CommandLine.Command;

/** Prints what lora4j sees of this machine: JDK, SIMD width, threads, memory. */
@Command(name = "sysinfo", mixinStandardHelpOptions = true,
        description = "Show the JDK, SIMD width, thread count and memory lora4j will use.")
final class SystemInfoCommand implements Runnable {
    @Override
    public void run() {
        System.out.println("java:        " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")");
        System.out.println("simd floats: " + FloatVector.SPECIES_PREFERRED.length()
                + " (" + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors)");
        System.out.println("threads:     " + Parallel.threads() + " (set with -Dlora4j.threads=N in LORA4J_JAVA_OPTS)");
        System.out.println("max heap:    " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
    }
}
