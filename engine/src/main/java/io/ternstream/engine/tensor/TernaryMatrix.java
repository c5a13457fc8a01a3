package io.ternstream.engine.tensor;

/**
 * A BitLinear weight matrix [rows, cols] quantized once at load time to ternary codes T in {-1, 0, +1}
 * with one per-tensor scale, exactly as the reference does at every forward:
 * {@code m = max(mean|W|, 1e-5); s_w = 1/m (fp32); T = clamp(round_half_even(W * s_w), -1, 1); W_q = T / s_w}.
 *
 * <p>Packed layout, 2 bits per weight: each row is {@code words} pairs of 64-bit words, the first word of
 * a pair has bit k set where T = +1 and the second where T = -1, for columns 64·w + k. Columns past
 * {@code cols} are zero in both words, so kernels run over whole words against activation buffers
 * padded with zeros to {@link #paddedCols()} and need no scalar tail.
 */
public final class TernaryMatrix {

    public static final int WORD_BITS = 64;

    private final int rows;
    private final int cols;
    private final int words;
    private final long[] bits;     // [rows][words][2]: plus mask, minus mask
    private final float dequant;   // 1 / s_w: the magnitude of a dequantized weight

    TernaryMatrix(int rows, int cols, long[] bits, float dequant) {
        this.rows = rows;
        this.cols = cols;
        this.words = wordsFor(cols);
        if (bits.length != (long) rows * words * 2) throw new IllegalArgumentException("packed size mismatch");
        this.bits = bits;
        this.dequant = dequant;
    }

    public static int wordsFor(int cols) {
        return (cols + WORD_BITS - 1) / WORD_BITS;
    }

    /** Source of the latent float weights, row-major; lets the loader stream from a mapped file. */
    @FunctionalInterface
    public interface FloatSource {
        /** Copies row {@code row} (cols values) into {@code dst}. */
        void readRow(int row, float[] dst);
    }

    /** Quantizes latent weights with the reference's absmean ternarization. */
    public static TernaryMatrix quantize(int rows, int cols, FloatSource source) {
        float[] row = new float[cols];
        double absSum = 0;
        for (int r = 0; r < rows; r++) {
            source.readRow(r, row);
            for (float v : row) absSum += Math.abs(v);
        }
        float mean = (float) (absSum / ((double) rows * cols));
        float m = Math.max(mean, 1e-5f);
        float sw = 1f / m;
        int words = wordsFor(cols);
        long[] bits = new long[Math.multiplyExact(rows * 2, words)];
        for (int r = 0; r < rows; r++) {
            source.readRow(r, row);
            int base = r * words * 2;
            for (int c = 0; c < cols; c++) {
                float q = (float) Math.rint(row[c] * sw); // round half to even, like torch.round
                if (q >= 1f) bits[base + (c >>> 6) * 2] |= 1L << (c & 63);
                else if (q <= -1f) bits[base + (c >>> 6) * 2 + 1] |= 1L << (c & 63);
            }
        }
        return new TernaryMatrix(rows, cols, bits, 1f / sw);
    }

    /** Builds a matrix directly from codes (random benchmark models, tests). */
    public static TernaryMatrix fromCodes(int rows, int cols, byte[] codes, float dequant) {
        int words = wordsFor(cols);
        long[] bits = new long[rows * 2 * words];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                byte t = codes[r * cols + c];
                if (t > 0) bits[(r * words + (c >>> 6)) * 2] |= 1L << (c & 63);
                else if (t < 0) bits[(r * words + (c >>> 6)) * 2 + 1] |= 1L << (c & 63);
            }
        }
        return new TernaryMatrix(rows, cols, bits, dequant);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Columns rounded up to whole 64-bit words; activation buffers must be this long, zero-padded. */
    public int paddedCols() {
        return words * WORD_BITS;
    }

    int words() {
        return words;
    }

    long[] bits() {
        return bits;
    }

    /** Dequantized magnitude 1/s_w: a weight with code T stands for T * dequant(). */
    public float dequant() {
        return dequant;
    }

    /** The ternary code at (row, col): -1, 0 or +1. */
    public int code(int row, int col) {
        int i = (row * words + (col >>> 6)) * 2;
        long bit = 1L << (col & 63);
        return (bits[i] & bit) != 0 ? 1 : (bits[i + 1] & bit) != 0 ? -1 : 0;
    }

    /** Bytes of packed weights read by one product. */
    public long packedBytes() {
        return bits.length * 8L;
    }
}
