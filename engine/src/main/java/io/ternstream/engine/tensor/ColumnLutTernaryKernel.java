package io.ternstream.engine.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicIntegerArray;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lookup-table kernel for many columns at once (batched sessions, prefill positions) over
 * {@link TernaryMatrix.Layout#INTERLEAVED} weights, with the columns in the vector lanes. Each byte of
 * packed weights holds four codes of one row; for every such group of four matrix columns a table holds,
 * per combination of the four codes, the 16 batch columns' sums {@code Σ T_m·x_m}. A row then costs one
 * 16-lane load-and-add per four weights, for all 16 batch columns together. The kernel reads its own
 * copy of the weights ({@link #tableOffsets}): each group as the 16-bit offset of its table entry, so
 * that a lookup is one scalar load and one load-and-add, with no index arithmetic. Weights cross memory
 * once per 16 columns; the per-column cost is a quarter of an add.
 *
 * <p>Tables of a quarter chunk (32 matrix columns, 8 groups, 20.7 KB: L1) are built in the product's
 * leased slot, then every row of a block of the product's range (up to {@link #BLOCK_ROWS}) is swept
 * over them, keeping 16-bit partial sums per row until the chunk ends. Without the copy, the packed
 * bytes index 172-entry tables instead (the 81 combinations spread over 2 + 8 + 32 + 128). Measured on
 * a 2-core AVX2 machine (Zen 3) with those tables: about 2.5 cycles per lookup, 73–85 G column-weights/s
 * on one core against 29 G for the multiply-add kernel; 32 lanes per lookup (two vectors sharing the index
 * work) measured only 6% faster per column, so the lanes stay at 16. See docs/PERFORMANCE.md.
 *
 * <p>Exactness: a table entry is at most 4·128, a chunk adds 32 of them (16 384), then lanes are
 * widened into 32-bit per-row totals.
 */
public final class ColumnLutTernaryKernel implements TernaryKernel {

    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    /** Eight floats: half a row of rescaled outputs. */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /** The 8×8 transposition: lane i from lane i − k or i + k, and the lanes that take the shifted vector. */
    private static final VectorShuffle<Float> UP1 = VectorShuffle.fromOp(F8, i -> (i + 7) & 7), DOWN1 = VectorShuffle.fromOp(F8, i -> (i + 1) & 7);
    private static final VectorShuffle<Float> UP2 = VectorShuffle.fromOp(F8, i -> (i + 6) & 7), DOWN2 = VectorShuffle.fromOp(F8, i -> (i + 2) & 7);
    private static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromOp(F8, i -> i ^ 4);
    private static final VectorMask<Float> ODD = VectorMask.fromLong(F8, 0b10101010), PAIR_HI = VectorMask.fromLong(F8, 0b11001100);
    private static final VectorMask<Float> HALF_HI = VectorMask.fromLong(F8, 0b11110000);
    /** Eight codes as one short vector. */
    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    /** The 8×8 transposition's shuffles and masks for eight shorts (see {@link #UP1}). */
    private static final VectorShuffle<Short> S_UP1 = VectorShuffle.fromOp(S8, i -> (i + 7) & 7), S_DOWN1 = VectorShuffle.fromOp(S8, i -> (i + 1) & 7);
    private static final VectorShuffle<Short> S_UP2 = VectorShuffle.fromOp(S8, i -> (i + 6) & 7), S_DOWN2 = VectorShuffle.fromOp(S8, i -> (i + 2) & 7);
    private static final VectorShuffle<Short> S_SWAP4 = VectorShuffle.fromOp(S8, i -> i ^ 4);
    private static final VectorMask<Short> S_ODD = VectorMask.fromLong(S8, 0b10101010), S_PAIR_HI = VectorMask.fromLong(S8, 0b11001100);
    private static final VectorMask<Short> S_HALF_HI = VectorMask.fromLong(S8, 0b11110000);
    /** Batch columns per sweep: the lanes. */
    static final int LANES = 16;
    /** Shorts of a chunk whose tables are built and swept together: 8 groups. */
    private static final int TILE_SHORTS = 4;
    private static final int TILES = TernaryMatrix.CHUNK_SHORTS / TILE_SHORTS;
    private static final int TILE_GROUPS = 2 * TILE_SHORTS; // two bytes per short
    /**
     * Group tables with the kernel's copy of the weights: one entry per base-3 index, 81. With the 2-bit
     * codes themselves as the index, the 81 entries in use were spread over 172, and a tile's tables
     * touched 27.6 KB of cache lines instead of 20.7 KB, beside the partial sums streaming through the
     * same 32 KB L1: products 2.4–5% slower (KernelJarAB).
     */
    private static final int GROUP_SHORTS = 81 * LANES;
    /** Group tables without the copy (ternstream.columnLut.copy=false): indexed by the packed byte, up to 2 + 8 + 32 + 128. */
    private static final int PACKED_GROUP_SHORTS = 172 * LANES;

    /** Shorts of one slot's tables: the tile's groups, room for either layout (44 KB). */
    private static final int SLOT_SHORTS = TILE_GROUPS * PACKED_GROUP_SHORTS;
    /**
     * Slots: a power of two, at least two per core (the pool's workers and their callers), at most 128
     * (5.6 MB of tables); past that, products wait for a slot.
     */
    private static final int SLOTS = Math.min(128, Math.max(8, Integer.highestOneBit(4 * Runtime.getRuntime().availableProcessors() - 1)));
    /**
     * The tables of every slot, in one off-heap segment aligned to a cache line. Its size is a constant to
     * C2, which then proves the table loads of {@link #rows} in bounds from the index arithmetic (slot
     * masked, byte index bounded) and drops their checks: 10–27% faster than per-thread arrays. Off-heap
     * because a Java array's data is only 8-byte aligned: where it started 16 bytes off a 32-byte boundary,
     * every other 32-byte entry straddled two cache lines and the same jar's products ran 11–16% slower,
     * by the luck of where the heap put the array (docs/ENGINE.md). Group and entry
     * sizes are multiples of 32 bytes, so every entry lies in one line. The padding covers the largest
     * 16-bit offset past the last group's start (a char reaches 65535), which the bound cannot exclude.
     */
    private static final MemorySegment TABLES = Arena.global().allocate(2L * (SLOTS * SLOT_SHORTS + 65536), 64);
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /**
     * Rows swept at a time: the tables are built again for every block of rows, which costs little at
     * this size, and it bounds the partial sums of a slot, so that they can live in {@link #PARTIALS}.
     */
    static final int BLOCK_ROWS = 4096;
    /**
     * The partial sums of every slot, [slot][row][lane] shorts: off-heap, aligned to a cache line and of a
     * constant size, for the reasons of {@link #TABLES}. A heap array's 32-byte rows straddled cache lines
     * wherever the heap put the array off a 32-byte boundary, and the same jar's products ran 10% slower
     * in that case (docs/ENGINE.md). 128 KB per slot.
     */
    private static final MemorySegment PARTIALS = Arena.global().allocate(2L * SLOTS * BLOCK_ROWS * LANES, 64);

    /** A slot's other scratch, grown on demand and reused. */
    private static final class Scratch {
        short[] columns = new short[0];                                      // [matrix column][lane]
        final short[] pairs = new short[9 * LANES];                          // the high pair's sums
        final int[] totals = new int[BLOCK_ROWS * LANES];                    // [row][lane] of a block
        final float[] inverse = new float[LANES];                            // [lane] the column's 1/s
    }

    private static final Scratch[] SCRATCH = new Scratch[SLOTS];

    /** Whether products read the copy of the weights with table offsets ({@link #tableOffsets}). */
    private final boolean copy;

    /** Models up to this many bytes of packed weights get the copy by default (it is twice as large). */
    static final long COPY_AUTO_LIMIT = 64L << 20;

    /** With the copy (tests, benchmarks of products). */
    public ColumnLutTernaryKernel() {
        this(true);
    }

    /**
     * Whether a model of {@code packedWeightBytes} gets the copy: {@code -Dternstream.columnLut.copy=}
     * {@code true}, {@code false}, or {@code auto} (the default: models up to 64 MB of packed weights,
     * such as the bundled one; a 370M-shaped model, 85 MB, keeps its resident memory instead).
     */
    public static boolean copyFor(long packedWeightBytes) {
        return copyFor(EngineTuning.CURRENT, packedWeightBytes);
    }

    static boolean copyFor(EngineTuning tuning, long packedWeightBytes) {
        return switch (tuning.columnLutCopy()) {
            case "true" -> true;
            case "false" -> false;
            default -> packedWeightBytes <= COPY_AUTO_LIMIT; // auto
        };
    }

    /**
     * {@code copy}: read a copy of each matrix with its table offsets, built on the first product (4 bits
     * per weight beside the 2-bit packed codes; lookups about 15% cheaper), or index the tables with the
     * packed bytes themselves (no extra memory).
     */
    public ColumnLutTernaryKernel(boolean copy) {
        this.copy = copy;
    }

    /**
     * Slots are leased for one product, not owned by threads (no ThreadLocal: in the service JVM, whose
     * threads carry many thread locals, its lookups missed their hash slot and took 5% of the engine
     * thread's samples). A caller releases its slot before it waits for the pool, so a full table of
     * slots only makes a thread spin until a product ends.
     */
    private static final AtomicIntegerArray LEASED = new AtomicIntegerArray(SLOTS);

    static {
        for (int i = 0; i < SLOTS; i++) SCRATCH[i] = new Scratch();
    }

    private static int leaseSlot() {
        int first = (int) Thread.currentThread().threadId() & (SLOTS - 1); // the same thread, mostly the same slot
        while (true) {
            for (int k = 0; k < SLOTS; k++) {
                int slot = (first + k) & (SLOTS - 1);
                if (LEASED.get(slot) == 0 && LEASED.compareAndSet(slot, 0, 1)) return slot;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Where a slot's tables start in {@link #TABLES}. The slot is masked so that C2 knows the range
     * and proves the table loads and stores in bounds.
     */
    private static int slotBase(int slot) {
        return (slot & (SLOTS - 1)) * SLOT_SHORTS;
    }

    @Override
    public TernaryMatrix.Layout layout() {
        return TernaryMatrix.Layout.INTERLEAVED;
    }

    @Override
    public void multiply(TernaryMatrix m, ActivationBatch in, int batch, float[][] out, int outOffset, int rowStart, int rowEnd) {
        TernaryKernel.checkOperands(m, in, this);
        if (rowStart >= rowEnd) return;
        int slot = leaseSlot();
        try {
            Scratch s = SCRATCH[slot];
            int chunks = TernaryMatrix.chunksFor(m.cols());
            if (s.columns.length < chunks * TernaryMatrix.CHUNK_COLS * LANES) s.columns = new short[chunks * TernaryMatrix.CHUNK_COLS * LANES];
            for (int b0 = 0; b0 < batch; b0 += LANES) {
                int n = Math.min(LANES, batch - b0);
                for (int c = 0; c < chunks; c++) transpose(in, b0, n, c * TernaryMatrix.CHUNK_COLS, s);
                for (int b = 0; b < LANES; b++) s.inverse[b] = b < n ? in.inverseScale(b0 + b) : 0f;
                for (int r0 = rowStart; r0 < rowEnd; r0 += BLOCK_ROWS) {
                    int r1 = Math.min(rowEnd, r0 + BLOCK_ROWS);
                    sweep(m, copy, r0, r1, s, slot);
                    for (int half = 0; half < n; half += 8) {
                        rescale(s.totals, s.inverse, half, m.dequant(), out, b0 + half, Math.min(8, n - half), outOffset, r0, r1);
                    }
                }
            }
        } finally {
            LEASED.set(slot, 0);
        }
    }

    /**
     * out[c0 + k][outOffset + r] = {@link TernaryKernel#rescale}(totals[r − rowStart][half + k]) for k < lanes:
     * the totals hold rows by lanes and the outputs lanes by rows, so eight rows of eight lanes are
     * rescaled as vectors (each lane by its column's 1/s), transposed in registers, and each lane's eight
     * rows stored at once. The transposition is three rounds of lane shifts and blends (24 permutes and
     * 24 blends; {@link #transposeBlocks} does the same on shorts), written out here so that no vector
     * crosses a call (C2 does not reliably inline a method taking vectors, and boxes them). A scalar loop
     * with a strided read cost about 2 cycles per output, 8% of a 32-column step. Same float operations as
     * the scalar rescale, element by element.
     */
    private static void rescale(int[] totals, float[] inverse, int half, float dequant, float[][] out, int c0,
                                int lanes, int outOffset, int rowStart, int rowEnd) {
        int rows = rowEnd - rowStart, r = 0;
        FloatVector scale = FloatVector.fromArray(F8, inverse, half);
        for (; r + 8 <= rows; r += 8) {
            int at = r * LANES + half;
            FloatVector f0 = ((FloatVector) IntVector.fromArray(I, totals, at).convert(VectorOperators.I2F, 0)).mul(scale).mul(dequant);
            FloatVector f1 = ((FloatVector) IntVector.fromArray(I, totals, at + LANES).convert(VectorOperators.I2F, 0)).mul(scale).mul(dequant);
            FloatVector f2 = ((FloatVector) IntVector.fromArray(I, totals, at + 2 * LANES).convert(VectorOperators.I2F, 0)).mul(scale).mul(dequant);
            FloatVector f3 = ((FloatVector) IntVector.fromArray(I, totals, at + 3 * LANES).convert(VectorOperators.I2F, 0)).mul(scale).mul(dequant);
            FloatVector f4 = ((FloatVector) IntVector.fromArray(I, totals, at + 4 * LANES).convert(VectorOperators.I2F, 0)).mul(scale).mul(dequant);
            FloatVector f5 = ((FloatVector) IntVector.fromArray(I, totals, at + 5 * LANES).convert(VectorOperators.I2F, 0)).mul(scale).mul(dequant);
            FloatVector f6 = ((FloatVector) IntVector.fromArray(I, totals, at + 6 * LANES).convert(VectorOperators.I2F, 0)).mul(scale).mul(dequant);
            FloatVector f7 = ((FloatVector) IntVector.fromArray(I, totals, at + 7 * LANES).convert(VectorOperators.I2F, 0)).mul(scale).mul(dequant);
            // round 1, rows in pairs: even lanes (0, 2, 4, 6) and odd lanes (1, 3, 5, 7), the pair's rows alternating
            FloatVector e01 = f0.blend(f1.rearrange(UP1), ODD), d01 = f0.rearrange(DOWN1).blend(f1, ODD);
            FloatVector e23 = f2.blend(f3.rearrange(UP1), ODD), d23 = f2.rearrange(DOWN1).blend(f3, ODD);
            FloatVector e45 = f4.blend(f5.rearrange(UP1), ODD), d45 = f4.rearrange(DOWN1).blend(f5, ODD);
            FloatVector e67 = f6.blend(f7.rearrange(UP1), ODD), d67 = f6.rearrange(DOWN1).blend(f7, ODD);
            // round 2, rows in fours: lanes (0, 4), (2, 6), (1, 5), (3, 7), four rows each
            FloatVector l04 = e01.blend(e23.rearrange(UP2), PAIR_HI), l26 = e01.rearrange(DOWN2).blend(e23, PAIR_HI);
            FloatVector l15 = d01.blend(d23.rearrange(UP2), PAIR_HI), l37 = d01.rearrange(DOWN2).blend(d23, PAIR_HI);
            FloatVector h04 = e45.blend(e67.rearrange(UP2), PAIR_HI), h26 = e45.rearrange(DOWN2).blend(e67, PAIR_HI);
            FloatVector h15 = d45.blend(d67.rearrange(UP2), PAIR_HI), h37 = d45.rearrange(DOWN2).blend(d67, PAIR_HI);
            // round 3, all eight rows: lane k's rows, stored for the lanes in the batch
            int o = outOffset + rowStart + r;
            l04.blend(h04.rearrange(SWAP4), HALF_HI).intoArray(out[c0], o);
            if (lanes > 1) l15.blend(h15.rearrange(SWAP4), HALF_HI).intoArray(out[c0 + 1], o);
            if (lanes > 2) l26.blend(h26.rearrange(SWAP4), HALF_HI).intoArray(out[c0 + 2], o);
            if (lanes > 3) l37.blend(h37.rearrange(SWAP4), HALF_HI).intoArray(out[c0 + 3], o);
            if (lanes > 4) l04.rearrange(SWAP4).blend(h04, HALF_HI).intoArray(out[c0 + 4], o);
            if (lanes > 5) l15.rearrange(SWAP4).blend(h15, HALF_HI).intoArray(out[c0 + 5], o);
            if (lanes > 6) l26.rearrange(SWAP4).blend(h26, HALF_HI).intoArray(out[c0 + 6], o);
            if (lanes > 7) l37.rearrange(SWAP4).blend(h37, HALF_HI).intoArray(out[c0 + 7], o);
        }
        for (; r < rows; r++) {
            for (int k = 0; k < lanes; k++) {
                out[c0 + k][outOffset + rowStart + r] = totals[r * LANES + half + k] * inverse[half + k] * dequant;
            }
        }
    }

    /** totals[row][lane] = Σ T·x over the transposed columns for rows [rowStart, rowEnd), at most BLOCK_ROWS. */
    private static void sweep(TernaryMatrix m, boolean copy, int rowStart, int rowEnd, Scratch s, int slot) {
        char[] offsets = copy ? m.derived(char[].class, ColumnLutTernaryKernel::tableOffsets) : null;
        short[] packed = m.chunks();
        int rows = m.rows(), stride = m.rowShorts();
        int chunks = TernaryMatrix.chunksFor(m.cols());
        java.util.Arrays.fill(s.totals, 0, (rowEnd - rowStart) * LANES, 0);
        for (int c = 0; c < chunks; c++) {
            for (int t = 0; t < TILES; t++) {
                int i0 = t * TILE_SHORTS;
                boolean first = t == 0, last = t == TILES - 1;
                if (copy) {
                    buildTables(s.columns, c * TernaryMatrix.CHUNK_COLS * LANES, s.pairs, slot, i0, GROUP_SHORTS, 3, 9, 27);
                    rows(offsets, slot, s.totals, rowStart, rowEnd, (c * TILES + t) * rows * TILE_GROUPS, first, last);
                } else {
                    buildTables(s.columns, c * TernaryMatrix.CHUNK_COLS * LANES, s.pairs, slot, i0, PACKED_GROUP_SHORTS, 4, 16, 64);
                    packedRows(packed, slot, s.totals, rowStart, rowEnd, stride, c * TernaryMatrix.CHUNK_SHORTS + i0, first, last);
                }
            }
        }
    }

    /**
     * One tile over the rows: a small method of its own, so that C2 keeps the arrays in registers. The
     * tile's offsets are eight chars per row, rows in order from {@code tile}.
     */
    private static void rows(char[] offsets, int slot, int[] totals, int rowStart, int rowEnd,
                             int tile, boolean first, boolean last) {
        MemorySegment tables = TABLES, partial = PARTIALS;
        int table = slotBase(slot);
        long partials = 2L * (slot & (SLOTS - 1)) * BLOCK_ROWS * LANES;
        int at = 0;
        for (int r = rowStart; r < rowEnd; r++, at += LANES) {
            int base = tile + r * TILE_GROUPS;
            ShortVector acc = first ? ShortVector.zero(S) : ShortVector.fromMemorySegment(S, partial, partials + 2L * at, NATIVE);
            ShortVector acc2 = ShortVector.zero(S);
            for (int g = 0; g < TILE_GROUPS; g += 2) {
                acc = acc.add(ShortVector.fromMemorySegment(S, tables, 2L * (table + g * GROUP_SHORTS + offsets[base + g]), NATIVE));
                acc2 = acc2.add(ShortVector.fromMemorySegment(S, tables, 2L * (table + (g + 1) * GROUP_SHORTS + offsets[base + g + 1]), NATIVE));
            }
            acc = acc.add(acc2);
            if (!last) {
                acc.intoMemorySegment(partial, partials + 2L * at, NATIVE);
            } else {
                IntVector lo = (IntVector) acc.convertShape(VectorOperators.S2I, I, 0);
                IntVector hi = (IntVector) acc.convertShape(VectorOperators.S2I, I, 1);
                IntVector.fromArray(I, totals, at).add(lo).intoArray(totals, at);
                IntVector.fromArray(I, totals, at + 8).add(hi).intoArray(totals, at + 8);
            }
        }
    }

    /** {@link #rows} without the copy: the table index is a byte of the packed weights, 172-entry tables. */
    private static void packedRows(short[] w, int slot, int[] totals, int rowStart, int rowEnd,
                                   int stride, int offset, boolean first, boolean last) {
        MemorySegment tables = TABLES, partial = PARTIALS;
        int table = slotBase(slot);
        long partials = 2L * (slot & (SLOTS - 1)) * BLOCK_ROWS * LANES;
        int at = 0;
        for (int r = rowStart; r < rowEnd; r++, at += LANES) {
            int base = r * stride + offset;
            ShortVector acc = first ? ShortVector.zero(S) : ShortVector.fromMemorySegment(S, partial, partials + 2L * at, NATIVE);
            ShortVector acc2 = ShortVector.zero(S);
            for (int i = 0; i < TILE_SHORTS; i++) {
                int v = w[base + i];
                acc = acc.add(ShortVector.fromMemorySegment(S, tables, 2L * (table + (2 * i) * PACKED_GROUP_SHORTS + (v & 0xFF) * LANES), NATIVE));
                acc2 = acc2.add(ShortVector.fromMemorySegment(S, tables, 2L * (table + (2 * i + 1) * PACKED_GROUP_SHORTS + ((v >>> 8) & 0xFF) * LANES), NATIVE));
            }
            acc = acc.add(acc2);
            if (!last) {
                acc.intoMemorySegment(partial, partials + 2L * at, NATIVE);
            } else {
                IntVector lo = (IntVector) acc.convertShape(VectorOperators.S2I, I, 0);
                IntVector hi = (IntVector) acc.convertShape(VectorOperators.S2I, I, 1);
                IntVector.fromArray(I, totals, at).add(lo).intoArray(totals, at);
                IntVector.fromArray(I, totals, at + 8).add(hi).intoArray(totals, at + 8);
            }
        }
    }

    /**
     * The kernel's copy of the weights: for chunk c, tile t, row r and group g of the tile (byte g mod 2 of
     * short 4t + g/2), at {@code ((c·TILES + t)·rows + r)·8 + g}, the offset in shorts of the group's table
     * entry, {@code (u0 + 3u1 + 9u2 + 27u3)·16} for codes u = T + 1. A tile's sweep reads it in order. Two
     * bytes per four weights: twice the packed weights, built on the kernel's first product with the matrix.
     */
    static char[] tableOffsets(TernaryMatrix m) {
        short[] chunks = m.chunks();
        int rows = m.rows(), chunkCount = TernaryMatrix.chunksFor(m.cols()), stride = m.rowShorts();
        char[] offsets = new char[Math.multiplyExact(chunkCount * TILES * TILE_GROUPS, rows)];
        for (int c = 0; c < chunkCount; c++) {
            for (int t = 0; t < TILES; t++) {
                for (int r = 0; r < rows; r++) {
                    int at = ((c * TILES + t) * rows + r) * TILE_GROUPS;
                    for (int i = 0; i < TILE_SHORTS; i++) {
                        int v = chunks[r * stride + c * TernaryMatrix.CHUNK_SHORTS + t * TILE_SHORTS + i];
                        offsets[at + 2 * i] = (char) (base3(v & 0xFF) * LANES);
                        offsets[at + 2 * i + 1] = (char) (base3((v >>> 8) & 0xFF) * LANES);
                    }
                }
            }
        }
        return offsets;
    }

    /** Four 2-bit codes u (each 0, 1 or 2) read as one base-3 number. */
    private static int base3(int fourCodes) {
        return (fourCodes & 3) + 3 * ((fourCodes >>> 2) & 3) + 9 * ((fourCodes >>> 4) & 3) + 27 * ((fourCodes >>> 6) & 3);
    }

    /** columns[(col0 + j)·16 + b] = code of batch column b0+b at matrix column col0+j, j < 128 (0 for unused lanes). */
    private static void transpose(ActivationBatch in, int b0, int n, int col0, Scratch s) {
        short[][] codes = in.codes();
        short[] columns = s.columns;
        if (n < LANES) java.util.Arrays.fill(columns, col0 * LANES, (col0 + TernaryMatrix.CHUNK_COLS) * LANES, (short) 0);
        int blocked = n & ~7;
        for (int h = 0; h < blocked; h += 8) transposeBlocks(codes, b0 + h, col0, columns, h);
        for (int b = blocked; b < n; b++) {
            short[] q = codes[b0 + b];
            for (int j = 0; j < TernaryMatrix.CHUNK_COLS; j++) columns[(col0 + j) * LANES + b] = q[col0 + j];
        }
    }

    /**
     * Lanes h .. h+7 of columns, from batch columns c0 .. c0+7: blocks of eight codes of eight columns
     * transposed as 128-bit vectors of shorts, in three rounds of lane shifts and blends (the same
     * butterfly as {@link #rescale}); within 128 bits every shuffle stays in one lane of the
     * register file, so each is one cheap instruction (the scalar loop was about 7% of a 32-column product).
     */
    private static void transposeBlocks(short[][] codes, int c0, int col0, short[] columns, int h) {
        short[] q0 = codes[c0], q1 = codes[c0 + 1], q2 = codes[c0 + 2], q3 = codes[c0 + 3];
        short[] q4 = codes[c0 + 4], q5 = codes[c0 + 5], q6 = codes[c0 + 6], q7 = codes[c0 + 7];
        for (int j = 0; j < TernaryMatrix.CHUNK_COLS; j += 8) {
            int at = col0 + j;
            ShortVector f0 = ShortVector.fromArray(S8, q0, at), f1 = ShortVector.fromArray(S8, q1, at);
            ShortVector f2 = ShortVector.fromArray(S8, q2, at), f3 = ShortVector.fromArray(S8, q3, at);
            ShortVector f4 = ShortVector.fromArray(S8, q4, at), f5 = ShortVector.fromArray(S8, q5, at);
            ShortVector f6 = ShortVector.fromArray(S8, q6, at), f7 = ShortVector.fromArray(S8, q7, at);
            ShortVector e01 = f0.blend(f1.rearrange(S_UP1), S_ODD), d01 = f0.rearrange(S_DOWN1).blend(f1, S_ODD);
            ShortVector e23 = f2.blend(f3.rearrange(S_UP1), S_ODD), d23 = f2.rearrange(S_DOWN1).blend(f3, S_ODD);
            ShortVector e45 = f4.blend(f5.rearrange(S_UP1), S_ODD), d45 = f4.rearrange(S_DOWN1).blend(f5, S_ODD);
            ShortVector e67 = f6.blend(f7.rearrange(S_UP1), S_ODD), d67 = f6.rearrange(S_DOWN1).blend(f7, S_ODD);
            ShortVector l04 = e01.blend(e23.rearrange(S_UP2), S_PAIR_HI), l26 = e01.rearrange(S_DOWN2).blend(e23, S_PAIR_HI);
            ShortVector l15 = d01.blend(d23.rearrange(S_UP2), S_PAIR_HI), l37 = d01.rearrange(S_DOWN2).blend(d23, S_PAIR_HI);
            ShortVector h04 = e45.blend(e67.rearrange(S_UP2), S_PAIR_HI), h26 = e45.rearrange(S_DOWN2).blend(e67, S_PAIR_HI);
            ShortVector h15 = d45.blend(d67.rearrange(S_UP2), S_PAIR_HI), h37 = d45.rearrange(S_DOWN2).blend(d67, S_PAIR_HI);
            int out = at * LANES + h;
            l04.blend(h04.rearrange(S_SWAP4), S_HALF_HI).intoArray(columns, out);
            l15.blend(h15.rearrange(S_SWAP4), S_HALF_HI).intoArray(columns, out + LANES);
            l26.blend(h26.rearrange(S_SWAP4), S_HALF_HI).intoArray(columns, out + 2 * LANES);
            l37.blend(h37.rearrange(S_SWAP4), S_HALF_HI).intoArray(columns, out + 3 * LANES);
            l04.rearrange(S_SWAP4).blend(h04, S_HALF_HI).intoArray(columns, out + 4 * LANES);
            l15.rearrange(S_SWAP4).blend(h15, S_HALF_HI).intoArray(columns, out + 5 * LANES);
            l26.rearrange(S_SWAP4).blend(h26, S_HALF_HI).intoArray(columns, out + 6 * LANES);
            l37.rearrange(S_SWAP4).blend(h37, S_HALF_HI).intoArray(columns, out + 7 * LANES);
        }
    }

    /**
     * Tables of shorts i0 .. i0+TILE_SHORTS-1: group 2j + k is byte k of short i0+j and covers chunk
     * columns 64k + 16m + i0 + j, m = 0..3; for codes u = T + 1, entry u0 + lowStride·u1 + hiStride·u2 +
     * hiBlock·u3 holds Σ (u_m − 1)·x_m for each lane: (1, 3, 9, 27), the base-3 index, with the copy;
     * (1, 4, 16, 64), the packed byte, without.
     */
    private static void buildTables(short[] columns, int at0, short[] pairs, int slot, int i0,
                                    int groupShorts, int lowStride, int hiStride, int hiBlock) {
        MemorySegment tables = TABLES;
        int b1 = lowStride * LANES, b2 = 2 * b1;
        int slotBase = slotBase(slot);
        for (int g = 0; g < TILE_GROUPS; g++) {
            int col = 64 * (g & 1) + i0 + (g >>> 1);
            pairSums(columns, at0 + (col + 32) * LANES, at0 + (col + 48) * LANES, pairs); // the high pair, read back per row of entries
            // the low pair's nine sums stay in registers: entry (a + 3b) + 9·(high pair's index) = low[a + 3b] + high
            ShortVector xa = ShortVector.fromArray(S, columns, at0 + col * LANES);
            ShortVector xb = ShortVector.fromArray(S, columns, at0 + (col + 16) * LANES);
            ShortVector na = xa.neg(), nb = xb.neg();
            ShortVector l0 = na.add(nb), l2 = xa.sub(xb), l6 = xb.sub(xa), l8 = xa.add(xb);
            int base = slotBase + g * groupShorts;
            for (int hi = 0; hi < 9; hi++) {
                ShortVector h = ShortVector.fromArray(S, pairs, hi * LANES);
                int at = base + (hiStride * (hi % 3) + hiBlock * (hi / 3)) * LANES;
                h.add(l0).intoMemorySegment(tables, 2L * at, NATIVE);
                h.add(nb).intoMemorySegment(tables, 2L * (at + LANES), NATIVE);
                h.add(l2).intoMemorySegment(tables, 2L * (at + 2 * LANES), NATIVE);
                h.add(na).intoMemorySegment(tables, 2L * (at + b1), NATIVE);
                h.intoMemorySegment(tables, 2L * (at + b1 + LANES), NATIVE);
                h.add(xa).intoMemorySegment(tables, 2L * (at + b1 + 2 * LANES), NATIVE);
                h.add(l6).intoMemorySegment(tables, 2L * (at + b2), NATIVE);
                h.add(xb).intoMemorySegment(tables, 2L * (at + b2 + LANES), NATIVE);
                h.add(l8).intoMemorySegment(tables, 2L * (at + b2 + 2 * LANES), NATIVE);
            }
        }
    }

    /** pairs[(a + 3b)·16 ..] = (a−1)·xa + (b−1)·xb per lane, the lanes of xa and xb at columns[atA], columns[atB]. */
    private static void pairSums(short[] columns, int atA, int atB, short[] pairs) {
        ShortVector xa = ShortVector.fromArray(S, columns, atA);
        ShortVector xb = ShortVector.fromArray(S, columns, atB);
        ShortVector na = xa.neg(), nb = xb.neg(), z = ShortVector.zero(S);
        na.add(nb).intoArray(pairs, 0);
        nb.intoArray(pairs, LANES);
        xa.sub(xb).intoArray(pairs, 2 * LANES);
        na.intoArray(pairs, 3 * LANES);
        z.intoArray(pairs, 4 * LANES);
        xa.intoArray(pairs, 5 * LANES);
        xb.sub(xa).intoArray(pairs, 6 * LANES);
        xb.intoArray(pairs, 7 * LANES);
        xa.add(xb).intoArray(pairs, 8 * LANES);
    }

    @Override
    public int parts(int batch, int threads) {
        return threads;
    }

    @Override
    public String name() {
        return "column-lut";
    }
}
