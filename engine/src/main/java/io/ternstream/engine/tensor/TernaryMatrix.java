package io.ternstream.engine.tensor;

import java.util.Arrays;

/**
 * A BitLinear weight matrix [rows, cols] quantized once at load time to ternary codes T in {-1, 0, +1}
 * with one per-tensor scale, exactly as the reference does at every forward:
 * {@code m = max(mean|W|, 1e-5); s_w = 1/m (fp32); T = clamp(round_half_even(W * s_w), -1, 1); W_q = T / s_w}.
 *
 * <p>Only the packed codes are kept, in the layout of the kernel that will read them (one layout per
 * matrix, so weights are resident once):
 * <ul>
 * <li>{@link Layout#BITMASKS}, 2 bits per weight: each row is {@code words} pairs of 64-bit words, the
 *     first word of a pair has bit k set where T = +1 and the second where T = -1, for columns 64·w + k.
 * <li>{@link Layout#TRIPLETS}, 16/9 ≈ 1.78 bits per weight: columns in groups of three, a group's codes
 *     as one base-3 index {@code (t0+1) + 3(t1+1) + 9(t2+1)} in [0, 27) of 5 bits, three groups per
 *     16-bit short; rows in blocks of {@link #ROW_BLOCK}, so that the 32 shorts of one block and one
 *     group triple are contiguous: {@code triplets[((block · tripleCount) + triple) · 32 + rowInBlock]}.
 *     A 32-lane vector then holds one group index per row, ready to select from a 27-entry table.
 * <li>{@link Layout#INTERLEAVED}, 2 bits per weight, for 256-bit vectors: each row is {@code chunks}
 *     runs of 16 shorts covering 128 columns; bits 2j, 2j+1 of short i of chunk c hold T + 1 for column
 *     {@code 128c + 16j + i}. One shift and one mask of a 16-lane vector yield the codes of 16
 *     consecutive columns (plus one), with no cross-lane work; byte k of short i holds the four codes
 *     of columns {@code 128c + 64k + 16m + i}, m = 0..3. The column LUT kernel derives its own copy
 *     on first use ({@link #derived}).
 * </ul>
 * Padding (columns past {@code cols}, rows past {@code rows} in the last block) holds T = 0, so kernels
 * never need to look at activations beyond {@code cols} or mask rows inside a block.
 */
public final class TernaryMatrix {

    /** Packed forms; each kernel reads one. */
    public enum Layout { BITMASKS, TRIPLETS, INTERLEAVED }

    public static final int WORD_BITS = 64;
    /** Rows per block of the TRIPLETS layout: the 16-bit lanes of a 512-bit vector. */
    public static final int ROW_BLOCK = 32;
    /** Columns per short of the TRIPLETS layout: three groups of three. */
    public static final int TRIPLE_COLS = 9;
    /** Columns per chunk of the INTERLEAVED layout: 16 shorts of 8 two-bit codes. */
    public static final int CHUNK_COLS = 128;
    /** Shorts per chunk of the INTERLEAVED layout. */
    public static final int CHUNK_SHORTS = 16;
    /** Base-3 index of the all-zero group (1 + 3 + 9). */
    static final int ZERO_GROUP = 13;

    private final int rows;
    private final int cols;
    private final Layout layout;
    private final int words;        // BITMASKS: 64-bit words per row
    private final int triples;      // TRIPLETS: shorts per row = ceil(cols / 9)
    private final long[] bits;      // BITMASKS: [rows][words][2] plus mask, minus mask; else null
    private final short[] triplets; // TRIPLETS: [rowBlocks][triples][ROW_BLOCK]; else null
    private final short[] chunks;   // INTERLEAVED: [rows][chunkCount][CHUNK_SHORTS]; else null
    private final float dequant;    // 1 / s_w: the magnitude of a dequantized weight
    private volatile Object derived;  // a kernel's own form of the weights, built on its first use

    private TernaryMatrix(int rows, int cols, Layout layout, long[] bits, short[] triplets, short[] chunks, float dequant) {
        this.rows = rows;
        this.cols = cols;
        this.layout = layout;
        this.words = wordsFor(cols);
        this.triples = triplesFor(cols);
        this.bits = bits;
        this.triplets = triplets;
        this.chunks = chunks;
        this.dequant = dequant;
    }

    public static int wordsFor(int cols) {
        return (cols + WORD_BITS - 1) / WORD_BITS;
    }

    public static int triplesFor(int cols) {
        return (cols + TRIPLE_COLS - 1) / TRIPLE_COLS;
    }

    public static int chunksFor(int cols) {
        return (cols + CHUNK_COLS - 1) / CHUNK_COLS;
    }

    public static int rowBlocksFor(int rows) {
        return (rows + ROW_BLOCK - 1) / ROW_BLOCK;
    }

    /** Length an activation buffer needs for {@code cols} inputs in any layout (zero-padded past cols). */
    public static int paddedColsFor(int cols) {
        return Math.max(Math.max(wordsFor(cols) * WORD_BITS, triplesFor(cols) * TRIPLE_COLS), chunksFor(cols) * CHUNK_COLS);
    }

    /** Source of the latent float weights, row-major; lets the loader stream from a mapped file. */
    @FunctionalInterface
    public interface FloatSource {
        /** Copies row {@code row} (cols values) into {@code dst}. */
        void readRow(int row, float[] dst);
    }

    /** Quantizes latent weights with the reference's absmean ternarization. */
    public static TernaryMatrix quantize(int rows, int cols, FloatSource source, Layout layout) {
        float[] row = new float[cols];
        double absSum = 0;
        for (int r = 0; r < rows; r++) {
            source.readRow(r, row);
            for (float v : row) absSum += Math.abs(v);
        }
        float mean = (float) (absSum / ((double) rows * cols));
        float m = Math.max(mean, 1e-5f);
        float sw = 1f / m;
        Builder b = new Builder(rows, cols, layout);
        byte[] codes = new byte[cols];
        for (int r = 0; r < rows; r++) {
            source.readRow(r, row);
            for (int c = 0; c < cols; c++) {
                float q = (float) Math.rint(row[c] * sw); // round half to even, like torch.round
                codes[c] = (byte) (q >= 1f ? 1 : q <= -1f ? -1 : 0);
            }
            b.setRow(r, codes);
        }
        return b.build(1f / sw);
    }

    /** Quantizes into the layout of the kernel selected for this process. */
    public static TernaryMatrix quantize(int rows, int cols, FloatSource source) {
        return quantize(rows, cols, source, TernaryKernel.selected().layout());
    }

    /** Builds a matrix directly from codes [rows·cols] (random benchmark models, tests). */
    public static TernaryMatrix fromCodes(int rows, int cols, byte[] codes, float dequant, Layout layout) {
        Builder b = new Builder(rows, cols, layout);
        byte[] row = new byte[cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(codes, r * cols, row, 0, cols);
            b.setRow(r, row);
        }
        return b.build(dequant);
    }

    public static TernaryMatrix fromCodes(int rows, int cols, byte[] codes, float dequant) {
        return fromCodes(rows, cols, codes, dequant, TernaryKernel.selected().layout());
    }

    /** Packs a matrix row by row from ternary codes, without ever holding float weights. */
    public static final class Builder {
        private final int rows, cols;
        private final Layout layout;
        private final long[] bits;
        private final short[] triplets;
        private final short[] chunks;

        public Builder(int rows, int cols, Layout layout) {
            if (rows < 1 || cols < 1) throw new IllegalArgumentException("matrix shape must be positive, got " + rows + "x" + cols);
            this.rows = rows;
            this.cols = cols;
            this.layout = layout;
            if (layout == Layout.BITMASKS) {
                bits = new long[Math.multiplyExact(rows * 2, wordsFor(cols))];
                triplets = null;
                chunks = null;
            } else if (layout == Layout.INTERLEAVED) {
                bits = null;
                triplets = null;
                chunks = new short[Math.multiplyExact(rows, chunksFor(cols) * CHUNK_SHORTS)];
                Arrays.fill(chunks, (short) 0x5555); // T = 0 in every padding position
            } else {
                bits = null;
                chunks = null;
                triplets = new short[Math.multiplyExact(rowBlocksFor(rows) * ROW_BLOCK, triplesFor(cols))];
                // padding rows of the last block: all-zero groups
                short zero = (short) (ZERO_GROUP | ZERO_GROUP << 5 | ZERO_GROUP << 10);
                Arrays.fill(triplets, zero);
            }
        }

        /** Sets row {@code r} from {@code codes[0, cols)}, each -1, 0 or +1. */
        public void setRow(int r, byte[] codes) {
            if (layout == Layout.BITMASKS) {
                int base = r * wordsFor(cols) * 2;
                for (int c = 0; c < cols; c++) {
                    byte t = codes[c];
                    if (t > 0) bits[base + (c >>> 6) * 2] |= 1L << (c & 63);
                    else if (t < 0) bits[base + (c >>> 6) * 2 + 1] |= 1L << (c & 63);
                }
                return;
            }
            if (layout == Layout.INTERLEAVED) {
                int base = r * chunksFor(cols) * CHUNK_SHORTS;
                for (int c = 0; c < cols; c++) {
                    int at = base + chunkShort(c);
                    int shift = chunkShift(c);
                    chunks[at] = (short) ((chunks[at] & ~(3 << shift)) | (code(codes, c) + 1) << shift);
                }
                return;
            }
            int tripleCount = triplesFor(cols);
            int at = (r / ROW_BLOCK) * tripleCount * ROW_BLOCK + r % ROW_BLOCK;
            for (int t = 0; t < tripleCount; t++) {
                int packed = 0;
                for (int g = 0; g < 3; g++) {
                    int c = t * TRIPLE_COLS + 3 * g;
                    int index = (code(codes, c) + 1) + 3 * (code(codes, c + 1) + 1) + 9 * (code(codes, c + 2) + 1);
                    packed |= index << (5 * g);
                }
                triplets[at + t * ROW_BLOCK] = (short) packed;
            }
        }

        private int code(byte[] codes, int c) {
            if (c >= cols) return 0;
            int t = codes[c];
            if (t < -1 || t > 1) throw new IllegalArgumentException("ternary code out of range: " + t);
            return t;
        }

        public TernaryMatrix build(float dequant) {
            return new TernaryMatrix(rows, cols, layout, bits, triplets, chunks, dequant);
        }
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public Layout layout() {
        return layout;
    }

    /** Columns rounded up to whole 64-bit words (BITMASKS); activation buffers must be this long, zero-padded. */
    public int paddedCols() {
        return paddedColsFor(cols);
    }

    int words() {
        return words;
    }

    int triples() {
        return triples;
    }

    long[] bits() {
        return bits;
    }

    short[] triplets() {
        return triplets;
    }

    short[] chunks() {
        return chunks;
    }

    /**
     * A form of these weights that one kernel derives for itself (the column LUT's table offsets), built
     * by {@code build} on the first call and kept with the matrix, shared by every thread. One form per
     * matrix: asking for another type is refused.
     */
    <T> T derived(Class<T> type, java.util.function.Function<TernaryMatrix, T> build) {
        Object form = derived;
        if (form == null) {
            synchronized (this) {
                form = derived;
                if (form == null) derived = form = build.apply(this);
            }
        }
        if (!type.isInstance(form)) {
            throw new IllegalStateException("matrix already holds a derived " + form.getClass().getSimpleName() + ", not a " + type.getSimpleName());
        }
        return type.cast(form);
    }

    /** INTERLEAVED: the short of a row that holds column {@code col}. */
    private static int chunkShort(int col) {
        return (col / CHUNK_COLS) * CHUNK_SHORTS + col % CHUNK_SHORTS;
    }

    /** INTERLEAVED: the bit of that short where column {@code col}'s code (T + 1) starts. */
    private static int chunkShift(int col) {
        return 2 * ((col % CHUNK_COLS) / CHUNK_SHORTS);
    }

    /** INTERLEAVED: shorts per row. */
    int rowShorts() {
        return chunksFor(cols) * CHUNK_SHORTS;
    }

    /** Dequantized magnitude 1/s_w: a weight with code T stands for T * dequant(). */
    public float dequant() {
        return dequant;
    }

    /** The ternary code at (row, col): -1, 0 or +1. */
    public int code(int row, int col) {
        if (layout == Layout.BITMASKS) {
            int i = (row * words + (col >>> 6)) * 2;
            long bit = 1L << (col & 63);
            return (bits[i] & bit) != 0 ? 1 : (bits[i + 1] & bit) != 0 ? -1 : 0;
        }
        if (layout == Layout.INTERLEAVED) {
            return ((chunks[row * rowShorts() + chunkShort(col)] >>> chunkShift(col)) & 3) - 1;
        }
        int s = triplets[((row / ROW_BLOCK) * triples + col / TRIPLE_COLS) * ROW_BLOCK + row % ROW_BLOCK];
        int within = col % TRIPLE_COLS;
        int index = (s >>> (5 * (within / 3))) & 31;
        for (int k = within % 3; k > 0; k--) index /= 3;
        return index % 3 - 1;
    }

    /** Bytes of packed weights read by one product. */
    public long packedBytes() {
        return bits != null ? bits.length * 8L : triplets != null ? triplets.length * 2L : chunks.length * 2L;
    }
}
