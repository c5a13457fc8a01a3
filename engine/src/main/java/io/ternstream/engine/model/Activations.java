package io.ternstream.engine.model;

/**
 * Element-wise math of the reference, in float32 with the reference's rounding rules. Shared by the
 * forward pass and the tests that check each op against captured reference tensors.
 */
public final class Activations {

    public static final float NORM_EPS = 1e-6f;
    /** The reference's absmax floor: s = 127 / max(max|y|, 1e-5). */
    private static final float ABSMAX_FLOOR = 1e-5f;

    private Activations() {}

    /** 1 / sqrt(mean(x²) + eps) over x[0, n). */
    public static float rmsFactor(float[] x, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double) x[i] * x[i];
        return (float) (1.0 / Math.sqrt(sum / n + eps));
    }

    /** out = x · rms · w (out may be x). */
    public static void rmsNorm(float[] x, float[] w, int n, float eps, float[] out) {
        float r = rmsFactor(x, n, eps);
        for (int i = 0; i < n; i++) out[i] = (x[i] * r) * w[i];
    }

    /**
     * The BitLinear input path fused in one pass over x: y = RMSNorm(x; w, 1e-6), s = 127/max|y|,
     * q = clamp(round_half_away(y·s), -128, 127). Writes the codes (zero padding beyond n is the caller's)
     * and returns 1/s, the factor that turns an integer dot product back into y_q·W.
     */
    public static float quantizeNormed(float[] x, float[] w, int n, short[] codes, float[] scratch) {
        float r = rmsFactor(x, n, NORM_EPS);
        float max = 0;
        for (int i = 0; i < n; i++) {
            float y = (x[i] * r) * w[i];
            scratch[i] = y;
            max = Math.max(max, Math.abs(y));
        }
        float s = 127f / Math.max(max, ABSMAX_FLOOR);
        for (int i = 0; i < n; i++) {
            codes[i] = (short) Math.clamp(roundHalfAway(scratch[i] * s), -128, 127);
        }
        return 1f / s;
    }

    /** Round half away from zero (Triton's libdevice round), evaluated in double so that 0.49999997f stays 0. */
    public static long roundHalfAway(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (long) (v < 0 ? -a : a);
    }

    public static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    /** silu(x)·y computed as the reference does: x·y / (1 + exp(-x)). */
    public static float swiglu(float x, float y) {
        return x * y / (1f + (float) Math.exp(-x));
    }
}
