package io.ternstream.service.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An error found by the gateway itself (not by an engine), sent to WebSocket clients. status is
 * the HTTP status the same problem gets on the HTTP API; code is a stable machine-readable name.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GatewayError(String type, String sessionId, String requestId, int status, String code, String message) {
    public static final String TYPE = "gateway_error";

    public GatewayError(String sessionId, String requestId, int status, String code, String message) {
        this(TYPE, sessionId, requestId, status, code, message);
    }
}
