package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The outcome of a control command; command is one of cancel, reset, fork, delete. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ControlAckEvent(String sessionId, String requestId, int seq, String command, boolean ok, String detail)
        implements ReplyEvent {}
