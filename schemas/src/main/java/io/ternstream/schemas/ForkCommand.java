package io.ternstream.schemas;

/** Copies the session's state into a new session targetSessionId. */
public record ForkCommand(String sessionId, String requestId, String targetSessionId) implements PromptTopicMessage {}
