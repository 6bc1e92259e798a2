package dev.lora4j.classify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Peak resident memory of this process as Linux reports it ({@code VmHWM} in /proc/self/status). */
public final class ResourceUsage {
    private ResourceUsage() {}

    /** Peak resident set size in bytes, or -1 where /proc is not available. */
    public static long peakResidentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String kb = line.substring(6).strip().split("\\s+")[0];
                    return Long.parseLong(kb) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Parameters stored in a checkpoint (tensors of a computable dtype; BERT's I64 position_ids are buffers). */
    public static long checkpointParameters(Path modelDir) throws IOException {
        long n = 0;
        try (var source = dev.lora4j.io.safetensors.Checkpoints.open(modelDir)) {
            for (String name : source.names()) {
                var info = source.info(name);
                if (info.dtype() != null) {
                    n += info.numel();
                }
            }
        }
        return n;
    }
}
