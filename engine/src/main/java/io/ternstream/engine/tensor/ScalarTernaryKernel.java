package io.ternstream.engine.tensor;

/**
 * The reference kernel, for every layout: BITMASKS walks the set bits of each mask word and adds or
 * subtracts activations; TRIPLETS decodes each base-3 group index digit by digit; INTERLEAVED reads
 * each weight's two bits.
 */
public final class ScalarTernaryKernel implements TernaryKernel {

    private final TernaryMatrix.Layout layout;

    public ScalarTernaryKernel(TernaryMatrix.Layout layout) {
        this.layout = layout;
    }

    @Override
    public TernaryMatrix.Layout layout() {
        return layout;
    }

    @Override
    public void multiply(TernaryMatrix m, ActivationBatch in, int batch, float[][] out, int outOffset, int rowStart, int rowEnd) {
        TernaryKernel.checkOperands(m, in, this);
        for (int b = 0; b < batch; b++) {
            short[] q = in.codes(b);
            for (int r = rowStart; r < rowEnd; r++) {
                int dot = switch (layout) {
                    case BITMASKS -> bitmaskDot(m, r, q);
                    case TRIPLETS -> tripletDot(m, r, q);
                    case INTERLEAVED -> interleavedDot(m, r, q);
                };
                out[b][outOffset + r] = TernaryKernel.rescale(dot, m, in.inverseScale(b));
            }
        }
    }

    private static int bitmaskDot(TernaryMatrix m, int r, short[] q) {
        long[] bits = m.bits();
        int words = m.words();
        int base = r * words * 2;
        int dot = 0;
        for (int w = 0; w < words; w++) {
            int col0 = w * TernaryMatrix.WORD_BITS;
            for (long plus = bits[base + 2 * w]; plus != 0; plus &= plus - 1) {
                dot += q[col0 + Long.numberOfTrailingZeros(plus)];
            }
            for (long minus = bits[base + 2 * w + 1]; minus != 0; minus &= minus - 1) {
                dot -= q[col0 + Long.numberOfTrailingZeros(minus)];
            }
        }
        return dot;
    }

    private static int tripletDot(TernaryMatrix m, int r, short[] q) {
        short[] packed = m.triplets();
        int triples = m.triples(), cols = m.cols();
        int at = (r / TernaryMatrix.ROW_BLOCK) * triples * TernaryMatrix.ROW_BLOCK + r % TernaryMatrix.ROW_BLOCK;
        int dot = 0;
        for (int t = 0; t < triples; t++) {
            int s = packed[at + t * TernaryMatrix.ROW_BLOCK];
            for (int g = 0; g < 3; g++) {
                int index = (s >>> (5 * g)) & 31;
                for (int k = 0; k < 3; k++, index /= 3) {
                    int c = t * TernaryMatrix.TRIPLE_COLS + 3 * g + k;
                    if (c < cols) dot += (index % 3 - 1) * q[c];
                }
            }
        }
        return dot;
    }

    /** Reads each weight through {@link TernaryMatrix#code}, the layout's one definition of its bits. */
    private static int interleavedDot(TernaryMatrix m, int r, short[] q) {
        int dot = 0;
        for (int c = 0; c < m.cols(); c++) dot += m.code(r, c) * q[c];
        return dot;
    }

    @Override
    public String name() {
        return switch (layout) {
            case BITMASKS -> "scalar";
            case TRIPLETS -> "scalar-triplets";
            case INTERLEAVED -> "scalar-interleaved";
        };
    }
}
