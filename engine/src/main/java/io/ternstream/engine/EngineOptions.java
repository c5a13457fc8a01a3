package io.ternstream.engine;

/**
 * @param threads    worker threads for the ternary products (default: all cores)
 * @param maxColumns tokens processed in one forward pass: the batch bound for stepping many sessions and
 *                   the chunk size of prefill (default 64)
 */
public record EngineOptions(int threads, int maxColumns) {
    /** The bundled model's folder, relative to the repository root (the launcher's ternstream.home). */
    public static final String BUNDLED_MODEL = "models/ternstream-tiny";

    public EngineOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (maxColumns < 1) throw new IllegalArgumentException("maxColumns must be >= 1, got " + maxColumns);
    }

    public EngineOptions(int threads) {
        this(threads, 64);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(Runtime.getRuntime().availableProcessors(), 64);
    }
}
