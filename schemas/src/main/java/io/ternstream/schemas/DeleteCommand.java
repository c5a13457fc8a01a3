package io.ternstream.schemas;

/** Deletes the session and its stored state. */
public record DeleteCommand(String sessionId, String requestId) implements PromptTopicMessage {}
