package dev.lora4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.tokenizer.Tokenizer;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Stop strings over a real tokenizer (the committed byte-level BPE test tokenizer): a stop string
 * is found across token boundaries, the text is cut before it, and nothing of it is ever released.
 */
class TextStreamTest {
    private static Tokenizer tokenizer() throws Exception {
        return Tokenizer.fromFile(Paths.get("src/test/resources/golden/tokenizers/qwen2_bytelevel.json"));
    }

    @Test
    void stopStringAcrossTokensCutsTheTextAndIsNeverReleased() throws Exception {
        Tokenizer tok = tokenizer();
        String story = "The cat sat.\nUser: hello there";
        int[] ids = tok.encode(story, false);
        TextStream stream = new TextStream(tok, new int[0], List.of("\nUser:", "zzz"));
        StringBuilder released = new StringBuilder();
        int i = 0;
        while (i < ids.length && !stream.stopped()) {
            released.append(stream.add(ids[i++]));
            assertThat(released.toString()).doesNotContain("\n");
        }
        released.append(stream.finish());
        assertThat(stream.stopped()).isTrue();
        assertThat(released.toString()).isEqualTo("The cat sat.").isEqualTo(stream.text());
    }

    @Test
    void withoutAStopStringEverythingIsReleasedAtTheEnd() throws Exception {
        Tokenizer tok = tokenizer();
        String text = "Once upon a time, naïve 日本 🙂 end\nUs";
        TextStream stream = new TextStream(tok, new int[0], List.of("\nUser:"));
        StringBuilder released = new StringBuilder();
        for (int id : tok.encode(text, false)) {
            released.append(stream.add(id));
        }
        assertThat(released.toString()).isEqualTo("Once upon a time, naïve 日本 🙂 end");   // "\nUs" may begin "\nUser:"
        released.append(stream.finish());
        assertThat(released.toString()).isEqualTo(text).isEqualTo(stream.text());
        assertThat(stream.stopped()).isFalse();
    }
}
