package io.ternstream.service.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ternstream.schemas.ErrorEvent;
import io.vertx.core.http.HttpServerResponse;

/** OpenAI's error JSON, and the statuses the engine's error codes map to. */
final class OpenAiErrors {
    private OpenAiErrors() {}

    static ApiException fromEngine(ErrorEvent e) {
        return switch (e.code()) {
            case PROMPT_TOO_LONG -> new ApiException(400, "invalid_request_error", "context_length_exceeded", "messages",
                    e.message());
            case INVALID_PARAMETERS, NO_TOKENIZER, SCHEMA_VIOLATION, MALFORMED_JSON ->
                    new ApiException(400, "invalid_request_error", e.code().json(), null, e.message());
            case UNKNOWN_SESSION -> new ApiException(404, "invalid_request_error", e.code().json(), null, e.message());
            case MODEL_MISMATCH, KEY_MISMATCH, STATE_LOST -> new ApiException(409, "invalid_request_error", e.code().json(), null,
                    e.message());
            case INTERNAL -> new ApiException(500, "server_error", e.code().json(), null, e.message());
        };
    }

    static ObjectNode body(ObjectMapper json, ApiException e) {
        ObjectNode root = json.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type);
        if (e.param == null) {
            error.putNull("param");
        } else {
            error.put("param", e.param);
        }
        error.put("code", e.code);
        return root;
    }

    static void send(ObjectMapper json, HttpServerResponse response, ApiException e) {
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(e.status).putHeader("Content-Type", "application/json");
        if (e.status == 429) {
            response.putHeader("Retry-After", "1");
        }
        response.end(body(json, e).toString());
    }
}
