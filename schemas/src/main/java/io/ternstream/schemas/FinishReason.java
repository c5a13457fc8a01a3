package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonValue;

/** Why a turn ended. */
public enum FinishReason {
    STOP("stop"), LENGTH("length"), CANCELLED("cancelled"), ERROR("error");

    private final String json;

    FinishReason(String json) {
        this.json = json;
    }

    @JsonValue
    public String json() {
        return json;
    }
}
