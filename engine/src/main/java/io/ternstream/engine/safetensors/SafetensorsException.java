package io.ternstream.engine.safetensors;

/** A safetensors file that cannot be used: truncated, corrupt header, wrong dtype or shape. */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
