package io.ternstream.service.gateway;

/** A request refused with an HTTP status and OpenAI's error fields. */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String code;
    final String param;

    ApiException(int status, String type, String code, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", "invalid_value", param, message);
    }
}
