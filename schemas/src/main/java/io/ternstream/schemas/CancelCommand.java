package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Cancels targetRequestId, or whatever the session runs when it is null. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CancelCommand(String sessionId, String requestId, String targetRequestId) implements PromptTopicMessage {}
