package io.ternstream.schemas;

/** A rejected request; its last event. */
public record ErrorEvent(String sessionId, String requestId, int seq, ErrorCode code, String message)
        implements ReplyEvent {}
