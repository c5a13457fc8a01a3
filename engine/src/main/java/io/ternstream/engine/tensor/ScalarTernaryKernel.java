package io.ternstream.engine.tensor;

/** The reference kernel: walks the set bits of each mask word and adds or subtracts activations. */
public final class ScalarTernaryKernel implements TernaryKernel {

    @Override
    public void multiply(TernaryMatrix m, short[][] codes, float[] actInverseScale, int batch,
                         float[][] out, int outOffset, int rowStart, int rowEnd) {
        long[] bits = m.bits();
        int words = m.words();
        for (int b = 0; b < batch; b++) {
            short[] q = codes[b];
            for (int r = rowStart; r < rowEnd; r++) {
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
                out[b][outOffset + r] = TernaryKernel.rescale(dot, m, actInverseScale[b]);
            }
        }
    }

    @Override
    public String name() {
        return "scalar";
    }
}
