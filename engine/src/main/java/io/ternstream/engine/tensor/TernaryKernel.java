package io.ternstream.engine.tensor;

/**
 * Ternary matrix × int8-activation products: integer additions and subtractions only, then one
 * float rescale per output. Every implementation must give bit-identical results: the integer sums
 * are exact and the rescale is the same float expression, {@link #rescale}.
 */
public interface TernaryKernel {

    /**
     * For rows [rowStart, rowEnd) of {@code m} and each column b < batch:
     * {@code out[b][outOffset + r] = rescale(sum_c T[r][c] * codes[b][c], m, actInverseScale[b])}.
     *
     * @param codes           per column the activation codes in [-127, 127], length ≥ m.paddedCols(), zero past m.cols()
     * @param actInverseScale per column 1/s of its absmax quantization (y_q = q / s)
     */
    void multiply(TernaryMatrix m, short[][] codes, float[] actInverseScale, int batch,
                  float[][] out, int outOffset, int rowStart, int rowEnd);

    String name();

    static float rescale(int dot, TernaryMatrix m, float actInverseScale) {
        return dot * actInverseScale * m.dequant();
    }

    /** The kernel chosen by {@code -Dternstream.kernel=scalar|vector} (default vector). */
    static TernaryKernel selected() {
        String choice = System.getProperty("ternstream.kernel", "vector");
        return switch (choice) {
            case "scalar" -> new ScalarTernaryKernel();
            case "vector" -> new VectorTernaryKernel();
            default -> throw new IllegalArgumentException("ternstream.kernel must be scalar or vector, got " + choice);
        };
    }
}
