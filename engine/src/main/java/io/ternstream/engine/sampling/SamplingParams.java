package io.ternstream.engine.sampling;

/**
 * How the next token is chosen. temperature 0 means greedy (argmax); topK 0, topP 1 and minP 0 disable
 * their filters; repetitionPenalty 1 disables the penalty. Invalid values are rejected here, so a
 * sampler never sees them.
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty, long seed) {

    public SamplingParams {
        check(Float.isFinite(temperature) && temperature >= 0, "temperature must be >= 0, got " + temperature);
        check(topK >= 0, "topK must be >= 0, got " + topK);
        check(topP > 0 && topP <= 1, "topP must be in (0, 1], got " + topP);
        check(minP >= 0 && minP < 1, "minP must be in [0, 1), got " + minP);
        check(Float.isFinite(repetitionPenalty) && repetitionPenalty > 0, "repetitionPenalty must be > 0, got " + repetitionPenalty);
    }

    public static SamplingParams greedy() {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 0L);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
