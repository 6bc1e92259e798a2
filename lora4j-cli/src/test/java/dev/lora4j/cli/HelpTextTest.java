package dev.lora4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's --help renders cleanly: picocli reads descriptions as format strings ('%' must be '%%'). */
class HelpTextTest {
    @Test
    void everyCommandsHelpRendersWithoutFormatWarnings() {
        PrintStream originalErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine root = new CommandLine(new Main());
            assertThat(root.getUsageMessage()).contains("train");
            for (Map.Entry<String, CommandLine> sub : root.getSubcommands().entrySet()) {
                assertThat(sub.getValue().getUsageMessage()).as(sub.getKey()).contains("Usage: lora4j " + sub.getKey());
            }
        } finally {
            System.setErr(originalErr);
        }
        assertThat(err.toString(StandardCharsets.UTF_8)).doesNotContain("Could not format").doesNotContain("WARN");
    }
}
