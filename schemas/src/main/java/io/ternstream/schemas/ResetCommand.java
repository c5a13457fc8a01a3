package io.ternstream.schemas;

/** Empties the session's recurrent state. */
public record ResetCommand(String sessionId, String requestId) implements PromptTopicMessage {}
