package io.ternstream.schemas;

/**
 * A message that does not meet its contract. sessionId and requestId are whatever could be read
 * from the broken message (null when not), so the service can still answer with an error event.
 */
public final class ContractViolation extends Exception {
    private final ErrorCode code;
    private final String sessionId;
    private final String requestId;

    public ContractViolation(ErrorCode code, String message, String sessionId, String requestId) {
        super(message);
        this.code = code;
        this.sessionId = sessionId;
        this.requestId = requestId;
    }

    public ErrorCode code() {
        return code;
    }

    public String sessionId() {
        return sessionId;
    }

    public String requestId() {
        return requestId;
    }
}
