package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * Everything on the replies topic, keyed by sessionId. (requestId, seq) identifies an event: a turn
 * redelivered after a crash repeats the same events with the same seq, so consumers drop duplicates.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = TokenEvent.class, name = Contracts.TYPE_TOKEN),
    @JsonSubTypes.Type(value = TurnCompleteEvent.class, name = Contracts.TYPE_COMPLETE),
    @JsonSubTypes.Type(value = ErrorEvent.class, name = Contracts.TYPE_ERROR),
    @JsonSubTypes.Type(value = ControlAckEvent.class, name = Contracts.TYPE_ACK)
})
public sealed interface ReplyEvent permits TokenEvent, TurnCompleteEvent, ErrorEvent, ControlAckEvent {
    String sessionId();

    String requestId();

    int seq();

    /** True for the last event of a request: a turn-complete, an error or a control acknowledgement. */
    default boolean terminal() {
        return !(this instanceof TokenEvent);
    }
}
