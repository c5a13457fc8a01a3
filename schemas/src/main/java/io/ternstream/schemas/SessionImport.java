package io.ternstream.schemas;

/**
 * Internal second half of a fork, keyed by the target session so the target's owner applies it in
 * that session's order. state is the engine's SessionState bytes.
 */
public record SessionImport(
        String sessionId,
        String requestId,
        String sourceSessionId,
        String fingerprint,
        byte[] state,
        long turnCount) implements PromptTopicMessage {}
