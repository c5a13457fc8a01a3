package io.ternstream.engine.tensor;

import jdk.incubator.vector.ShortVector;

/**
 * Ternary matrix × int8-activation products: integer additions only, then one float rescale per
 * output. Every implementation must give bit-identical results: the integer sums are exact and the
 * rescale is the same float expression, {@link #rescale}.
 */
public interface TernaryKernel {

    /** The packed form of the weights this kernel reads. */
    TernaryMatrix.Layout layout();

    /**
     * For rows [rowStart, rowEnd) of {@code m} and each column b < batch:
     * {@code out[b][outOffset + r] = rescale(sum_c T[r][c] * codes_b[c], m, in.inverseScale(b))}.
     * {@code rowStart} is a multiple of {@link TernaryMatrix#ROW_BLOCK}; {@code rowEnd} is one too or
     * {@code m.rows()}.
     */
    void multiply(TernaryMatrix m, ActivationBatch in, int batch, float[][] out, int outOffset, int rowStart, int rowEnd);

    /** Shorts of derived activation data per column for inputs of {@code cols}; 0 if the kernel reads codes only. */
    default int tableLength(int cols) {
        return 0;
    }

    /** Derives a column's kernel-specific form from its codes (called once per column and product). */
    default void prepare(short[] codes, int cols, short[] table) {}

    String name();

    /**
     * Parts to split a product of {@code batch} columns into on {@code threads} threads. Many small
     * parts rebalance when a core is stolen; a kernel that builds per-part tables wants one per thread.
     */
    default int parts(int batch, int threads) {
        return threads == 1 ? 1 : threads * 8;
    }

    static float rescale(int dot, TernaryMatrix m, float actInverseScale) {
        return dot * actInverseScale * m.dequant();
    }

    /**
     * The kernel chosen by {@code -Dternstream.kernel=NAME} (see {@link #byName}); default lut where
     * 512-bit vectors are available (it needs 32 16-bit lanes), interleaved otherwise.
     */
    static TernaryKernel selected() {
        return byName(selectedName(), true);
    }

    /**
     * {@link #selected()} for a model of {@code packedWeightBytes}: the column LUT keeps its copy of the
     * weights only where {@link ColumnLutTernaryKernel#copyFor} allows it for that size.
     */
    static TernaryKernel selected(long packedWeightBytes) {
        return byName(selectedName(), ColumnLutTernaryKernel.copyFor(packedWeightBytes));
    }

    private static String selectedName() {
        String fallback = ShortVector.SPECIES_PREFERRED.length() >= TernaryMatrix.ROW_BLOCK ? "lut" : "interleaved";
        return EngineTuning.CURRENT.kernel() != null ? EngineTuning.CURRENT.kernel() : fallback;
    }

    static TernaryKernel byName(String choice) {
        return byName(choice, true);
    }

    /** {@code copy}: whether a column LUT (alone or in interleaved) reads its copy of the weights. */
    static TernaryKernel byName(String choice, boolean copy) {
        return switch (choice) {
            case "scalar" -> new ScalarTernaryKernel(TernaryMatrix.Layout.BITMASKS);
            case "scalar-triplets" -> new ScalarTernaryKernel(TernaryMatrix.Layout.TRIPLETS);
            case "vector" -> new VectorTernaryKernel();
            case "lut" -> new LutTernaryKernel();
            case "scalar-interleaved" -> new ScalarTernaryKernel(TernaryMatrix.Layout.INTERLEAVED);
            case "muladd" -> new MulAddTernaryKernel();
            case "column-lut" -> new ColumnLutTernaryKernel(copy);
            case "interleaved" -> new InterleavedTernaryKernel(copy);
            default -> throw new IllegalArgumentException("ternstream.kernel must be one of scalar, scalar-triplets, scalar-interleaved, "
                    + "vector, lut, muladd, column-lut, interleaved; got " + choice);
        };
    }

    /** The matrix is packed in this kernel's layout and the activations have its column count. */
    static void checkOperands(TernaryMatrix m, ActivationBatch in, TernaryKernel k) {
        if (m.layout() != k.layout()) {
            throw new IllegalArgumentException("kernel " + k.name() + " reads " + k.layout() + " weights, matrix is packed as " + m.layout());
        }
        if (in.cols() != m.cols()) throw new IllegalArgumentException("activations have " + in.cols() + " columns, matrix " + m.cols());
    }
}
