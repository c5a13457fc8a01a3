package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonValue;

/** Why a record was rejected; also the value of the dead-letter code header. */
public enum ErrorCode {
    MALFORMED_JSON("malformed_json"),
    SCHEMA_VIOLATION("schema_violation"),
    KEY_MISMATCH("key_mismatch"),
    UNKNOWN_SESSION("unknown_session"),
    PROMPT_TOO_LONG("prompt_too_long"),
    INVALID_PARAMETERS("invalid_parameters"),
    NO_TOKENIZER("no_tokenizer"),
    MODEL_MISMATCH("model_mismatch"),
    /** The session's stored context could not be used (unreadable, or written by another model). */
    STATE_LOST("state_lost"),
    INTERNAL("internal");

    private final String json;

    ErrorCode(String json) {
        this.json = json;
    }

    @JsonValue
    public String json() {
        return json;
    }
}
