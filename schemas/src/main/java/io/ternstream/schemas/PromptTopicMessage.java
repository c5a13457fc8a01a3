package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** Everything on the prompts topic: keyed by sessionId, applied in offset order per session. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = PromptRequest.class, name = Contracts.TYPE_PROMPT),
    @JsonSubTypes.Type(value = CancelCommand.class, name = Contracts.TYPE_CANCEL),
    @JsonSubTypes.Type(value = ResetCommand.class, name = Contracts.TYPE_RESET),
    @JsonSubTypes.Type(value = ForkCommand.class, name = Contracts.TYPE_FORK),
    @JsonSubTypes.Type(value = DeleteCommand.class, name = Contracts.TYPE_DELETE),
    @JsonSubTypes.Type(value = SessionImport.class, name = Contracts.TYPE_IMPORT)
})
public sealed interface PromptTopicMessage
        permits PromptRequest, CancelCommand, ResetCommand, ForkCommand, DeleteCommand, SessionImport {
    String sessionId();

    String requestId();
}
