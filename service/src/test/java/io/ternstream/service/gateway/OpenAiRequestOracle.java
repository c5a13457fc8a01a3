package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import java.io.IOException;
import java.util.List;
import java.util.function.Function;

/**
 * What the fuzz tests demand of an OpenAI request body, read as {@link OpenAiRoutes} reads it: it is
 * not JSON (the route's 400 invalid_json), or it is refused with a 400 {@link ApiException}, or it
 * becomes a request whose parameters the prompts topic's contract accepts, so nothing the HTTP API
 * takes is dropped later as a schema violation.
 */
final class OpenAiRequestOracle {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MessageCodec CODEC = new MessageCodec();

    private OpenAiRequestOracle() {}

    static void readsOrRefuses(byte[] body, Function<JsonNode, OpenAiRequest> parser) {
        JsonNode tree;
        try {
            tree = JSON.readTree(body);
        } catch (IOException e) {
            return;
        }
        if (tree == null || !tree.isObject()) {
            return;
        }
        OpenAiRequest request;
        try {
            request = parser.apply(tree);
        } catch (ApiException e) {
            assertEquals(400, e.status, e.getMessage());
            return;
        }
        assertFalse(request.model().isEmpty());
        GenerationParams params = request.params();
        if (params.maxTokens() != null) {
            assertTrue(params.maxTokens() >= 1, "max_tokens " + params.maxTokens());
        }
        PromptRequest prompt = request.promptTokens() != null
                ? PromptRequest.ofTokens("s1", "r1", request.promptTokens(), params)
                : PromptRequest.ofText("s1", "r1", request.promptText() != null ? request.promptText() : "chat", params);
        try {
            assertEquals(prompt, CODEC.decodePromptTopic(CODEC.encode(prompt)));
        } catch (ContractViolation e) {
            fail("an accepted request breaks the prompts topic's contract: " + e.getMessage());
        }
        if (request.messages() != null) {
            assertFalse(request.messages().isEmpty());
            assertEquals("user", request.messages().getLast().role());
            request.messages().forEach(m -> assertTrue(List.of("system", "user", "assistant").contains(m.role())));
        }
    }
}
