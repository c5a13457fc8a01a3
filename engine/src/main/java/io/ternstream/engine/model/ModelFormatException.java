package io.ternstream.engine.model;

/** A model folder that cannot be loaded: unknown model type, missing or misshapen tensor, bad config. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
