package io.ternstream.engine.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Up to {@code maxColumns} int8-quantized activation columns, the input of one ternary product, in the
 * form the kernel reads: the codes, each column's 1/s, and whatever the kernel derives from the codes
 * once per column (the LUT kernel's 27-entry sum tables). Allocated once; refilled for every product.
 *
 * <p>Fill protocol: write column c's codes into {@link #codes(int)} (positions [0, cols)), then
 * {@link #commit(int, float)}; positions past cols are never read as activations.
 */
public final class ActivationBatch {

    /** Eight codes, and the same eight widened to ints: one step of {@link #sum}. */
    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;

    private final TernaryKernel kernel;
    private final int maxCols;
    private final short[][] codes;       // [C][paddedColsFor(maxCols)] values in [-128, 127]
    private final float[] inverseScale;  // [C] 1/s of each column's absmax quantization
    private final short[][] tables;      // [C][kernel-defined] derived form, or null
    private final int[] codeSums;        // [C] sum of each column's codes (kernels that store T + 1 subtract it)
    private int cols;

    public ActivationBatch(TernaryKernel kernel, int maxColumns, int maxCols) {
        this.kernel = kernel;
        this.maxCols = maxCols;
        this.codes = new short[maxColumns][TernaryMatrix.paddedColsFor(maxCols)];
        this.inverseScale = new float[maxColumns];
        this.codeSums = new int[maxColumns];
        int tableLength = kernel.tableLength(maxCols);
        this.tables = tableLength > 0 ? new short[maxColumns][tableLength] : null;
    }

    /** Starts a product with {@code cols} inputs per column. */
    public void begin(int cols) {
        if (cols < 1 || cols > maxCols) throw new IllegalArgumentException("cols must be in [1, " + maxCols + "], got " + cols);
        this.cols = cols;
    }

    public int cols() {
        return cols;
    }

    public int maxColumns() {
        return codes.length;
    }

    /** The code buffer of column {@code c}: write [0, cols) before {@link #commit}. */
    public short[] codes(int c) {
        return codes[c];
    }

    public float inverseScale(int c) {
        return inverseScale[c];
    }

    /** Column {@code c} is written: records its 1/s and lets the kernel derive its form. */
    public void commit(int c, float inverseScale) {
        // positions past cols may hold codes of a wider product that used this buffer before
        java.util.Arrays.fill(codes[c], cols, Math.min(codes[c].length, TernaryMatrix.paddedColsFor(cols)), (short) 0);
        this.inverseScale[c] = inverseScale;
        codeSums[c] = sum(codes[c], cols);
        if (tables != null) kernel.prepare(codes[c], cols, tables[c]);
    }

    /** Σ q[0, n): eight codes widened to ints per step (a scalar loop cost 2% of a 32-column step). */
    private static int sum(short[] q, int n) {
        IntVector acc = IntVector.zero(I8);
        int i = 0;
        for (int bound = S8.loopBound(n); i < bound; i += S8.length()) {
            acc = acc.add(ShortVector.fromArray(S8, q, i).convertShape(VectorOperators.S2I, I8, 0));
        }
        int sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += q[i];
        return sum;
    }

    /** Sum of column {@code c}'s codes over [0, cols). */
    public int codeSum(int c) {
        return codeSums[c];
    }

    short[][] codes() {
        return codes;
    }

    short[][] tables() {
        return tables;
    }

    float[] inverseScales() {
        return inverseScale;
    }
}
