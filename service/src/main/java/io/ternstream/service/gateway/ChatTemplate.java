package io.ternstream.service.gateway;

import java.util.List;

/**
 * Turns chat messages into prompt text, one "Role: content" line per message, ending with the
 * assistant's prefix so the model writes the reply. A continuation renders only the new messages,
 * starting with a line break: appended to a session that holds the earlier turns (and the
 * assistant's generated reply), it gives the same text as rendering the whole conversation.
 */
public final class ChatTemplate {
    /** One chat message; role is system, user or assistant. */
    public record Message(String role, String content) {}

    private final GatewayConfig.Chat chat;

    public ChatTemplate(GatewayConfig.Chat chat) {
        this.chat = chat;
    }

    public String full(List<Message> messages) {
        return render(messages) + "\n" + chat.assistantPrefix();
    }

    public String continuation(List<Message> newMessages) {
        return "\n" + full(newMessages);
    }

    private String render(List<Message> messages) {
        StringBuilder text = new StringBuilder();
        for (Message m : messages) {
            if (!text.isEmpty()) {
                text.append('\n');
            }
            text.append(switch (m.role()) {
                case "system" -> chat.systemPrefix() + m.content();
                case "user" -> chat.userPrefix() + m.content();
                case "assistant" -> chat.assistantPrefix() + m.content();
                default -> throw new IllegalArgumentException("unsupported role " + m.role());
            });
        }
        return text.toString();
    }
}
