package io.ternstream.engine.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernel over {@link TernaryMatrix.Layout#INTERLEAVED} weights for 256-bit vectors without cross-lane
 * byte or word permutes (AVX2, NEON): a chunk's 16 shorts hold 8 columns' codes per lane, so one
 * shift and one mask give the codes (plus one) of 16 consecutive columns, and a 16-bit multiply-add
 * applies them: {@code dot = Σ (T+1)·x − Σ x}, with Σ x computed once per column.
 *
 * <p>Exactness: (T+1)·x is at most 256 in magnitude and a chunk adds 8 of them to a lane, so 16-bit
 * lanes are widened into a 32-bit total every {@link #FLUSH_CHUNKS} chunks (16 384 < 32 767).
 * Rows are the outer loop and columns the inner one, so a row's weights are read from memory once
 * for the whole batch; large batches go to {@link ColumnLutTernaryKernel} instead (see
 * {@link InterleavedTernaryKernel}).
 */
public final class MulAddTernaryKernel implements TernaryKernel {

    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final int FLUSH_CHUNKS = 8;

    static {
        if (S.length() != TernaryMatrix.CHUNK_SHORTS) throw new IllegalStateException("chunk must fill one vector");
    }

    @Override
    public TernaryMatrix.Layout layout() {
        return TernaryMatrix.Layout.INTERLEAVED;
    }

    @Override
    public void multiply(TernaryMatrix m, ActivationBatch in, int batch, float[][] out, int outOffset, int rowStart, int rowEnd) {
        TernaryKernel.checkOperands(m, in, this);
        short[] w = m.chunks();
        int stride = m.rowShorts();
        int chunks = TernaryMatrix.chunksFor(m.cols());
        short[][] codes = in.codes();
        for (int r = rowStart; r < rowEnd; r++) {
            for (int b = 0; b < batch; b++) {
                int dot = dot(w, r * stride, chunks, codes[b]) - in.codeSum(b);
                out[b][outOffset + r] = TernaryKernel.rescale(dot, m, in.inverseScale(b));
            }
        }
    }

    /** Σ (T+1)·x over one row. */
    private static int dot(short[] w, int base, int chunks, short[] x) {
        int total = 0;
        for (int c0 = 0; c0 < chunks; c0 += FLUSH_CHUNKS) {
            int c1 = Math.min(chunks, c0 + FLUSH_CHUNKS);
            ShortVector acc = ShortVector.zero(S), odd = acc;
            for (int c = c0; c < c1; c++) {
                ShortVector v = ShortVector.fromArray(S, w, base + c * TernaryMatrix.CHUNK_SHORTS);
                int col = c * TernaryMatrix.CHUNK_COLS;
                // two independent sums: a single chain of eight adds per chunk would bound the loop
                acc = acc.add(v.and((short) 3).mul(ShortVector.fromArray(S, x, col)))
                         .add(v.lanewise(VectorOperators.LSHR, 4).and((short) 3).mul(ShortVector.fromArray(S, x, col + 32)))
                         .add(v.lanewise(VectorOperators.LSHR, 8).and((short) 3).mul(ShortVector.fromArray(S, x, col + 64)))
                         .add(v.lanewise(VectorOperators.LSHR, 12).and((short) 3).mul(ShortVector.fromArray(S, x, col + 96)));
                odd = odd.add(v.lanewise(VectorOperators.LSHR, 2).and((short) 3).mul(ShortVector.fromArray(S, x, col + 16)))
                         .add(v.lanewise(VectorOperators.LSHR, 6).and((short) 3).mul(ShortVector.fromArray(S, x, col + 48)))
                         .add(v.lanewise(VectorOperators.LSHR, 10).and((short) 3).mul(ShortVector.fromArray(S, x, col + 80)))
                         .add(v.lanewise(VectorOperators.LSHR, 14).mul(ShortVector.fromArray(S, x, col + 112)));
            }
            acc = acc.add(odd);
            IntVector lo = (IntVector) acc.convertShape(VectorOperators.S2I, I, 0);
            IntVector hi = (IntVector) acc.convertShape(VectorOperators.S2I, I, 1);
            total += lo.add(hi).reduceLanes(VectorOperators.ADD);
        }
        return total;
    }

    @Override
    public String name() {
        return "muladd";
    }
}
