package io.ternstream.engine.state;

/** Session-state bytes that cannot be applied: corrupt, truncated, of another version or another model. */
public class StateFormatException extends RuntimeException {
    public StateFormatException(String message) {
        super(message);
    }
}
