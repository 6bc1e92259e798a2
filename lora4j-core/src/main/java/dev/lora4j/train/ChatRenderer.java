package dev.lora4j.train;

import java.util.List;

/**
 * Renders a conversation to the text a chat model is trained on, e.g. through the model's Jinja
 * chat template (lora4j-chat's {@code ChatTemplate}). Messages are (role, content) pairs.
 */
@FunctionalInterface
public interface ChatRenderer {
    String render(List<Message> messages, boolean addGenerationPrompt);

    record Message(String role, String content) {}
}
