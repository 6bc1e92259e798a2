package dev.lora4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chat lines train on the assistant turns only, cut where the template puts each reply. */
class ChatExamplesTest {
    /** ChatML, as Qwen2's template renders it. */
    static final ChatRenderer CHATML = (messages, generationPrompt) -> {
        StringBuilder sb = new StringBuilder();
        for (ChatRenderer.Message m : messages) {
            sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        if (generationPrompt) {
            sb.append("<|im_start|>assistant\n");
        }
        return sb.toString();
    };

    static Tokenizer tokenizer() throws Exception {
        return Tokenizer.fromFile(Path.of(ChatExamplesTest.class.getResource("/golden/tokenizers/qwen2_bytelevel.json").toURI()));
    }

    @Test
    void onlyAssistantRepliesAndTheirEndMarkupAreTargets() throws Exception {
        Tokenizer tok = tokenizer();
        List<ChatRenderer.Message> conversation = List.of(
                new ChatRenderer.Message("system", "You are terse."),
                new ChatRenderer.Message("user", "Say hi."),
                new ChatRenderer.Message("assistant", "Hi there!"),
                new ChatRenderer.Message("user", "Again?"),
                new ChatRenderer.Message("assistant", "Sure."));
        Example e = ChatExamples.of(conversation, CHATML, tok);

        assertThat(tok.decode(e.ids(), false)).isEqualTo(CHATML.render(conversation, false));
        List<Integer> targets = new ArrayList<>();
        for (int t = 0; t < e.length(); t++) {
            if (e.lossMask()[t]) {
                targets.add(e.ids()[t]);
            }
        }
        String targetText = tok.decode(targets.stream().mapToInt(Integer::intValue).toArray(), false);
        assertThat(targetText).isEqualTo("Hi there!<|im_end|>\nSure.<|im_end|>\n");
    }

    @Test
    void messagesLinesNeedATemplateAndAnAssistantTurn(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("chat.jsonl");
        Files.writeString(data, "{\"messages\": [{\"role\": \"user\", \"content\": \"hello\"}]}\n");
        assertThatThrownBy(() -> JsonlDataset.read(data, 1 << 20, tokenizer(), null))
                .hasMessageContaining("chat.jsonl:1").hasMessageContaining("chat template");
        assertThatThrownBy(() -> JsonlDataset.read(data, 1 << 20, tokenizer(), CHATML))
                .hasMessageContaining("chat.jsonl:1").hasMessageContaining("no assistant message");
        Files.writeString(data, "{\"messages\": [{\"role\": \"user\", \"content\": \"hello\"},"
                + " {\"role\": \"assistant\", \"content\": \"hi\"}]}\n");
        assertThat(JsonlDataset.read(data, 1 << 20, tokenizer(), CHATML)).singleElement()
                .satisfies(ex -> assertThat(ex.targetCount()).isPositive());
    }
}
