package io.ternstream.engine.tensor;

/**
 * The default kernel where 512-bit vectors are missing (AVX2, NEON), over
 * {@link TernaryMatrix.Layout#INTERLEAVED} weights: {@link MulAddTernaryKernel} for a few columns,
 * {@link ColumnLutTernaryKernel} from {@link #COLUMN_LUT_MIN_BATCH} columns on, where its per-column
 * cost (a quarter of a 16-lane add per four weights) wins over multiply-adds.
 */
public final class InterleavedTernaryKernel implements TernaryKernel {

    /** Batch size from which the column LUT is faster per column (docs/ENGINE.md). */
    static final int COLUMN_LUT_MIN_BATCH = EngineTuning.CURRENT.columnLutMinBatch();

    private final MulAddTernaryKernel mulAdd = new MulAddTernaryKernel();
    private final ColumnLutTernaryKernel columnLut;

    public InterleavedTernaryKernel() {
        this(true);
    }

    /** {@code copy}: whether the column LUT reads its copy of the weights ({@link ColumnLutTernaryKernel}). */
    public InterleavedTernaryKernel(boolean copy) {
        this.columnLut = new ColumnLutTernaryKernel(copy);
    }

    @Override
    public TernaryMatrix.Layout layout() {
        return TernaryMatrix.Layout.INTERLEAVED;
    }

    @Override
    public void multiply(TernaryMatrix m, ActivationBatch in, int batch, float[][] out, int outOffset, int rowStart, int rowEnd) {
        (batch >= COLUMN_LUT_MIN_BATCH ? columnLut : mulAdd).multiply(m, in, batch, out, outOffset, rowStart, rowEnd);
    }

    /** The column LUT builds its tables per part: one part per thread, so they are built once per thread. */
    @Override
    public int parts(int batch, int threads) {
        return batch >= COLUMN_LUT_MIN_BATCH ? threads : TernaryKernel.super.parts(batch, threads);
    }

    @Override
    public String name() {
        return "interleaved";
    }
}
