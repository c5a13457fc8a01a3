package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** One user turn. Exactly one of text and tokenIds is set (the schema enforces it). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PromptRequest(
        String sessionId,
        String requestId,
        String text,
        List<Integer> tokenIds,
        GenerationParams params,
        String replyTo) implements PromptTopicMessage {

    public PromptRequest {
        tokenIds = tokenIds == null ? null : List.copyOf(tokenIds);
    }

    public static PromptRequest ofText(String sessionId, String requestId, String text, GenerationParams params) {
        return new PromptRequest(sessionId, requestId, text, null, params, null);
    }

    public static PromptRequest ofTokens(String sessionId, String requestId, List<Integer> ids, GenerationParams params) {
        return new PromptRequest(sessionId, requestId, null, ids, params, null);
    }

    public GenerationParams paramsOrDefaults() {
        return params == null ? GenerationParams.defaults() : params;
    }
}
