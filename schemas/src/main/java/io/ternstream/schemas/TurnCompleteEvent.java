package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The last event of a turn; text is any text released only at the end (held back by stop matching). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TurnCompleteEvent(
        String sessionId, String requestId, int seq, String text, FinishReason finishReason, Usage usage)
        implements ReplyEvent {}
