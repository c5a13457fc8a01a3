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
 *
 * <p>Speed (measured on AVX2, docs/PERFORMANCE.md): rows go in pairs, which share the activation
 * loads and overlap the two rows' reductions (+20% on 1024-column rows); the widening splits each
 * int lane's two sums with shifts instead of a lane-crossing conversion; codes are shifted as ints,
 * which compile to immediate shifts. Helpers taking vectors as parameters are avoided on purpose:
 * C2 does not inline them here, and the product then runs 2–3× slower.
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
        int r = rowStart;
        for (; r + 1 < rowEnd; r += 2) {
            for (int b = 0; b < batch; b++) {
                long dots = dot2(w, r * stride, (r + 1) * stride, chunks, codes[b]);
                out[b][outOffset + r] = result((int) (dots >> 32), m, in, b);
                out[b][outOffset + r + 1] = result((int) dots, m, in, b);
            }
        }
        if (r < rowEnd) { // an odd row count: the last row goes as a pair with itself
            for (int b = 0; b < batch; b++) {
                out[b][outOffset + r] = result((int) (dot2(w, r * stride, r * stride, chunks, codes[b]) >> 32), m, in, b);
            }
        }
    }

    /** Output of a row for column b from its Σ (T+1)·x: Σ T·x = that − Σ x, then rescaled. */
    private static float result(int shiftedDot, TernaryMatrix m, ActivationBatch in, int b) {
        return TernaryKernel.rescale(shiftedDot - in.codeSum(b), m, in.inverseScale(b));
    }

    /** Σ (T+1)·x over two rows sharing the activation loads: the first in the high half. */
    private static long dot2(short[] w, int baseA, int baseB, int chunks, short[] x) {
        IntVector totalA = IntVector.zero(I), totalB = totalA;
        for (int c0 = 0; c0 < chunks; c0 += FLUSH_CHUNKS) {
            int c1 = Math.min(chunks, c0 + FLUSH_CHUNKS);
            ShortVector accA = ShortVector.zero(S), accB = accA;
            for (int c = c0; c < c1; c++) {
                int col = c * TernaryMatrix.CHUNK_COLS;
                ShortVector a = ShortVector.fromArray(S, w, baseA + c * TernaryMatrix.CHUNK_SHORTS);
                ShortVector b = ShortVector.fromArray(S, w, baseB + c * TernaryMatrix.CHUNK_SHORTS);
                ShortVector x0 = ShortVector.fromArray(S, x, col), x1 = ShortVector.fromArray(S, x, col + 16);
                ShortVector x2 = ShortVector.fromArray(S, x, col + 32), x3 = ShortVector.fromArray(S, x, col + 48);
                ShortVector x4 = ShortVector.fromArray(S, x, col + 64), x5 = ShortVector.fromArray(S, x, col + 80);
                ShortVector x6 = ShortVector.fromArray(S, x, col + 96), x7 = ShortVector.fromArray(S, x, col + 112);
                IntVector ai = a.reinterpretAsInts();
                accA = accA.add(a.and((short) 3).mul(x0).add(ai.lanewise(VectorOperators.LSHR, 2).reinterpretAsShorts().and((short) 3).mul(x1))
                        .add(ai.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 3).mul(x2).add(ai.lanewise(VectorOperators.LSHR, 6).reinterpretAsShorts().and((short) 3).mul(x3)))
                        .add(ai.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 3).mul(x4).add(ai.lanewise(VectorOperators.LSHR, 10).reinterpretAsShorts().and((short) 3).mul(x5))
                        .add(ai.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 3).mul(x6).add(a.lanewise(VectorOperators.LSHR, 14).mul(x7)))));
                IntVector bi = b.reinterpretAsInts();
                accB = accB.add(b.and((short) 3).mul(x0).add(bi.lanewise(VectorOperators.LSHR, 2).reinterpretAsShorts().and((short) 3).mul(x1))
                        .add(bi.lanewise(VectorOperators.LSHR, 4).reinterpretAsShorts().and((short) 3).mul(x2).add(bi.lanewise(VectorOperators.LSHR, 6).reinterpretAsShorts().and((short) 3).mul(x3)))
                        .add(bi.lanewise(VectorOperators.LSHR, 8).reinterpretAsShorts().and((short) 3).mul(x4).add(bi.lanewise(VectorOperators.LSHR, 10).reinterpretAsShorts().and((short) 3).mul(x5))
                        .add(bi.lanewise(VectorOperators.LSHR, 12).reinterpretAsShorts().and((short) 3).mul(x6).add(b.lanewise(VectorOperators.LSHR, 14).mul(x7)))));
            }
            IntVector pa = accA.reinterpretAsInts(), pb = accB.reinterpretAsInts();
            totalA = totalA.add(pa.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(pa.lanewise(VectorOperators.ASHR, 16));
            totalB = totalB.add(pb.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(pb.lanewise(VectorOperators.ASHR, 16));
        }
        return ((long) totalA.reduceLanes(VectorOperators.ADD) << 32) | (totalB.reduceLanes(VectorOperators.ADD) & 0xFFFFFFFFL);
    }

    @Override
    public String name() {
        return "muladd";
    }
}
