package dev.lora4j.chat;

import java.util.List;

/**
 * The conversation for a model without a chat template: "System: ...\nUser: ...\nAssistant: ...",
 * ending with "Assistant:" for the reply, which ends where the model starts the next user turn.
 */
public final class PlainTranscript {
    /** Where a reply ends: the model has begun writing the user's next turn. */
    public static final String STOP = "\nUser:";

    private PlainTranscript() {}

    public static String render(List<ChatMessage> conversation) {
        StringBuilder s = new StringBuilder();
        for (ChatMessage m : conversation) {
            String who = Character.toUpperCase(m.role().charAt(0)) + m.role().substring(1);
            s.append(who).append(": ").append(m.content()).append('\n');
        }
        return s.append("Assistant:").toString();
    }
}
