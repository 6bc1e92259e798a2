package dev.lora4j.warmup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JitWarmupTest {
    @Test
    void theTinyModelGeneratesAndTrainsInEachDtypeAndIsRemovedAfterwards() throws Exception {
        long before = warmupDirs();
        for (DType dtype : DType.values()) {
            JitWarmup.runNow(JitWarmup.Workload.TRAIN, dtype, 1);
        }
        assertThat(warmupDirs()).isEqualTo(before);
    }

    @Test
    void readsTheWeightDtypeFromTheSafetensorsHeader(@TempDir Path dir) throws Exception {
        assertThat(JitWarmup.weightDtype(dir)).isEqualTo(DType.F32);    // nothing there
        for (DType dtype : DType.values()) {
            Path tiny = JitWarmup.writeTinyModel(dtype);
            assertThat(JitWarmup.weightDtype(tiny)).isEqualTo(dtype);
        }
    }

    private static long warmupDirs() throws Exception {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("lora4j-warmup-")).count();
        }
    }
}
