package dev.lora4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.tokenizer.Tokenizer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * generate and chat through the CLI on the stories260K import (from ../shared; skipped where it is
 * absent): greedy from an empty prompt (BOS) prints transformers' greedy story
 * (lora4j-core's golden/generation/stories260K.json), a stop string ends the text before it, and chat
 * without a chat template answers in a plain transcript.
 */
class GenerateCommandTest {
    private static final Path STORIES = Paths.get("../../shared/models/stories260K");
    private static final Path GOLDEN = Paths.get("../lora4j-core/src/test/resources/golden/generation/stories260K.json");

    private static Path importStories(Path tmp) {
        assumeTrue(Files.isRegularFile(STORIES.resolve("stories260K.bin")),
                "needs ../shared/models/stories260K (the llama2.c stories260K checkpoint and tok512.bin)");
        Path model = tmp.resolve("stories");
        EvalCommandTest.Run r = EvalCommandTest.run("import-llama2c", "--checkpoint", STORIES.resolve("stories260K.bin").toString(),
                "--tokenizer", STORIES.resolve("tok512.bin").toString(), "--output", model.toString());
        assertThat(r.code()).as(r.err()).isZero();
        return model;
    }

    @Test
    void greedyFromBosPrintsTheReferenceStory(@TempDir Path tmp) throws Exception {
        Path model = importStories(tmp);
        JsonNode golden = new ObjectMapper().readTree(GOLDEN.toFile());
        int[] ids = new int[golden.get("generated").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = golden.get("generated").get(i).asInt();
        }
        String expected = Tokenizer.fromFile(STORIES.resolve("tok512.bin")).decode(ids, true).strip();
        EvalCommandTest.Run r = EvalCommandTest.run("generate", "--model", model.toString(), "--prompt", "",
                "--max-new-tokens", Integer.toString(ids.length));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Once upon a time, there was a little girl named Lily.");
        assertThat(r.out().strip()).isEqualTo(expected);
    }

    @Test
    void stopStringEndsTheTextBeforeIt(@TempDir Path tmp) {
        Path model = importStories(tmp);
        EvalCommandTest.Run r = EvalCommandTest.run("generate", "--model", model.toString(), "--prompt", "",
                "--max-new-tokens", "100", "--stop", "red ball");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                + "One day, she saw a big, " + System.lineSeparator());
    }

    @Test
    void chatWithoutTemplateRepliesAndExits(@TempDir Path tmp) {
        Path model = importStories(tmp);
        InputStream oldIn = System.in;
        try {
            System.setIn(new ByteArrayInputStream("Tell me a story.\n/exit\n".getBytes(StandardCharsets.UTF_8)));
            EvalCommandTest.Run r = EvalCommandTest.run("chat", "--model", model.toString(), "--max-new-tokens", "20",
                    "--temperature", "0");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.err()).contains("has no chat template");
            assertThat(r.out().strip()).isNotEmpty().doesNotContain("User:");
        } finally {
            System.setIn(oldIn);
        }
    }

    @Test
    void chatRendersTheTemplateOfTokenizerConfig(@TempDir Path tmp) throws Exception {
        Path model = importStories(tmp);
        String template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                + "{% if add_generation_prompt %}assistant:{% endif %}";
        Files.writeString(model.resolve("tokenizer_config.json"),
                new ObjectMapper().writeValueAsString(java.util.Map.of("chat_template", template)));
        InputStream oldIn = System.in;
        EvalCommandTest.Run r;
        try {
            System.setIn(new ByteArrayInputStream("Hello Lily\n".getBytes(StandardCharsets.UTF_8)));
            r = EvalCommandTest.run("chat", "--model", model.toString(), "--system", "Tell a story.",
                    "--max-new-tokens", "24", "--temperature", "0");
        } finally {
            System.setIn(oldIn);
        }
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).doesNotContain("no chat template");
        // The same prompt rendered by hand and generated in-process.
        Tokenizer tok = Tokenizer.fromFile(STORIES.resolve("tok512.bin"));
        int[] prompt = tok.encode("system: Tell a story.\nuser: Hello Lily\nassistant:", false);
        try (dev.lora4j.model.CausalLM lm = dev.lora4j.model.Models.load(model)) {
            String expected = new dev.lora4j.generate.Generator(lm, tok).generate(prompt,
                    dev.lora4j.generate.GenerationConfig.greedy(24).withStopTokens(java.util.Set.of(2)),
                    dev.lora4j.generate.GenerationListener.NONE).text();
            assertThat(expected.strip()).isNotEmpty();
            assertThat(r.out().strip()).isEqualTo(expected.strip());
        }
    }

    @Test
    void badOptionsGiveOneLineErrors(@TempDir Path tmp) {
        Path model = importStories(tmp);
        EvalCommandTest.Run r = EvalCommandTest.run("generate", "--model", model.toString(), "--prompt", "x", "--top-p", "1.5");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("top-p must be in (0, 1]");
    }
}
