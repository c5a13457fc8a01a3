package io.ternstream.engine.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernel. The weight bit masks become lane masks directly ({@code VectorMask.fromLong},
 * one k-register move on AVX-512), and the product is a masked add of the activations where T = +1
 * and a masked subtract where T = -1, on 16-bit lanes: no multiply and no unpacking of codes.
 * Several activation columns share each row's masks (batched decode, prefill).
 *
 * <p>Overflow: a lane receives at most one ±127 per 64-column word, so 16-bit accumulators are
 * exact for {@link #WORDS_PER_FLUSH} words; longer rows are summed in chunks into 32-bit totals.
 */
public final class VectorTernaryKernel implements TernaryKernel {

    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    private static final int VECTORS_PER_WORD = TernaryMatrix.WORD_BITS / LANES;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** 258 × 127 < 32767: stay below it. */
    private static final int WORDS_PER_FLUSH = 256;

    static {
        if (TernaryMatrix.WORD_BITS % LANES != 0) throw new IllegalStateException("unsupported vector width " + LANES);
    }

    @Override
    public TernaryMatrix.Layout layout() {
        return TernaryMatrix.Layout.BITMASKS;
    }

    @Override
    public void multiply(TernaryMatrix m, ActivationBatch in, int batch, float[][] out, int outOffset, int rowStart, int rowEnd) {
        TernaryKernel.checkOperands(m, in, this);
        short[][] codes = in.codes();
        float[] actInverseScale = in.inverseScales();
        int b = 0;
        for (; b + 4 <= batch; b += 4) {
            for (int r = rowStart; r < rowEnd; r++) rowTimesFour(m, r, codes, b, actInverseScale, out, outOffset);
        }
        for (; b < batch; b++) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[b][outOffset + r] = TernaryKernel.rescale(rowDot(m, r, codes[b]), m, actInverseScale[b]);
            }
        }
    }

    private static int rowDot(TernaryMatrix m, int r, short[] q) {
        long[] bits = m.bits();
        int words = m.words();
        int base = r * words * 2;
        int total = 0;
        for (int w0 = 0; w0 < words; w0 += WORDS_PER_FLUSH) {
            int w1 = Math.min(words, w0 + WORDS_PER_FLUSH);
            ShortVector acc = ShortVector.zero(S);
            for (int w = w0; w < w1; w++) {
                long plus = bits[base + 2 * w];
                long minus = bits[base + 2 * w + 1];
                int col = w * TernaryMatrix.WORD_BITS;
                for (int k = 0; k < VECTORS_PER_WORD; k++) {
                    ShortVector x = ShortVector.fromArray(S, q, col + k * LANES);
                    acc = acc.add(x, VectorMask.fromLong(S, plus >>> (k * LANES)))
                             .sub(x, VectorMask.fromLong(S, minus >>> (k * LANES)));
                }
            }
            total += widenSum(acc);
        }
        return total;
    }

    private static void rowTimesFour(TernaryMatrix m, int r, short[][] codes, int b,
                                     float[] actInverseScale, float[][] out, int outOffset) {
        long[] bits = m.bits();
        int words = m.words();
        int base = r * words * 2;
        short[] q0 = codes[b], q1 = codes[b + 1], q2 = codes[b + 2], q3 = codes[b + 3];
        int t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (int w0 = 0; w0 < words; w0 += WORDS_PER_FLUSH) {
            int w1 = Math.min(words, w0 + WORDS_PER_FLUSH);
            ShortVector a0 = ShortVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int w = w0; w < w1; w++) {
                long plus = bits[base + 2 * w];
                long minus = bits[base + 2 * w + 1];
                int col = w * TernaryMatrix.WORD_BITS;
                for (int k = 0; k < VECTORS_PER_WORD; k++) {
                    VectorMask<Short> p = VectorMask.fromLong(S, plus >>> (k * LANES));
                    VectorMask<Short> n = VectorMask.fromLong(S, minus >>> (k * LANES));
                    int c = col + k * LANES;
                    ShortVector x0 = ShortVector.fromArray(S, q0, c);
                    ShortVector x1 = ShortVector.fromArray(S, q1, c);
                    ShortVector x2 = ShortVector.fromArray(S, q2, c);
                    ShortVector x3 = ShortVector.fromArray(S, q3, c);
                    a0 = a0.add(x0, p).sub(x0, n);
                    a1 = a1.add(x1, p).sub(x1, n);
                    a2 = a2.add(x2, p).sub(x2, n);
                    a3 = a3.add(x3, p).sub(x3, n);
                }
            }
            t0 += widenSum(a0);
            t1 += widenSum(a1);
            t2 += widenSum(a2);
            t3 += widenSum(a3);
        }
        out[b][outOffset + r] = TernaryKernel.rescale(t0, m, actInverseScale[b]);
        out[b + 1][outOffset + r] = TernaryKernel.rescale(t1, m, actInverseScale[b + 1]);
        out[b + 2][outOffset + r] = TernaryKernel.rescale(t2, m, actInverseScale[b + 2]);
        out[b + 3][outOffset + r] = TernaryKernel.rescale(t3, m, actInverseScale[b + 3]);
    }

    /** Sums 16-bit lanes in 32-bit arithmetic (a 16-bit lane reduction could overflow). */
    private static int widenSum(ShortVector acc) {
        IntVector lo = (IntVector) acc.convertShape(VectorOperators.S2I, I, 0);
        IntVector hi = (IntVector) acc.convertShape(VectorOperators.S2I, I, 1);
        return lo.add(hi).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public String name() {
        return "vector";
    }
}
