package dev.lora4j.train;

import dev.lora4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * A conversation as a training example with loss on the assistant's turns only.
 *
 * <p>The text is cut where the template puts each assistant reply: for the i-th assistant message,
 * {@code render(messages before it, generation prompt)} is everything up to where the reply starts
 * and {@code render(messages up to it)} everything up to where it ends. The pieces are tokenized one
 * by one (so a token never straddles the boundary between prompt and reply) and only the reply
 * pieces, template end-of-turn markup included, are targets: the model learns to answer and to stop,
 * not to write the user's turns.
 */
public final class ChatExamples {
    private ChatExamples() {}

    public static Example of(List<ChatRenderer.Message> messages, ChatRenderer renderer, Tokenizer tokenizer) {
        List<String> pieces = new ArrayList<>();
        List<Boolean> isReply = new ArrayList<>();
        String done = "";
        for (int i = 0; i < messages.size(); i++) {
            if (!messages.get(i).role().equals("assistant")) {
                continue;
            }
            String before = renderer.render(messages.subList(0, i), true);
            String through = renderer.render(messages.subList(0, i + 1), false);
            if (!before.startsWith(done) || !through.startsWith(before)) {
                throw new IllegalArgumentException("the chat template does not render conversations as growing "
                        + "prefixes of each other, so assistant turns cannot be located (message " + i + ")");
            }
            pieces.add(before.substring(done.length()));
            isReply.add(false);
            pieces.add(through.substring(before.length()));
            isReply.add(true);
            done = through;
        }
        if (pieces.isEmpty()) {
            throw new IllegalArgumentException("conversation has no assistant message to learn from");
        }
        String all = renderer.render(messages, false);
        if (all.length() > done.length() && all.startsWith(done)) {
            pieces.add(all.substring(done.length()));
            isReply.add(false);
        }
        List<Integer> ids = new ArrayList<>();
        List<Boolean> mask = new ArrayList<>();
        for (int p = 0; p < pieces.size(); p++) {
            for (int id : tokenizer.encode(pieces.get(p), false)) {
                ids.add(id);
                mask.add(isReply.get(p));
            }
        }
        int[] idArray = new int[ids.size()];
        boolean[] maskArray = new boolean[ids.size()];
        for (int t = 0; t < idArray.length; t++) {
            idArray[t] = ids.get(t);
            maskArray[t] = t > 0 && mask.get(t);
        }
        return new Example(idArray, maskArray);
    }
}
