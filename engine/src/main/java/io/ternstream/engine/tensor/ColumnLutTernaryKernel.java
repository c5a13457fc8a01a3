package io.ternstream.engine.tensor;

import java.util.concurrent.atomic.AtomicIntegerArray;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lookup-table kernel for many columns at once (batched sessions, prefill positions) over
 * {@link TernaryMatrix.Layout#INTERLEAVED} weights, with the columns in the vector lanes. Each byte of
 * packed weights holds four codes of one row, an 8-bit index (81 of its 256 values occur); for every
 * such group of four matrix columns a table holds, per index, the 16 batch columns' sums
 * {@code Σ T_m·x_m}. A row then costs one 16-lane load-and-add per four weights, for all 16 batch
 * columns together, and the index is read from the weights with scalar loads that run beside the
 * vector unit. Weights cross memory once per 16 columns; the per-column cost is a quarter of an add.
 *
 * <p>Tables of a quarter chunk (32 matrix columns, 8 groups, about 28 KB touched: L1) are built in
 * the product's leased slot, then every row of the product's range is swept over them, keeping 16-bit
 * partial sums per row until the chunk ends. Measured here (Zen 3): about 2.5 cycles per lookup, 73–85
 * G column-weights/s on one core against 29 G for the multiply-add kernel; 32 lanes per lookup (two
 * vectors sharing the index work) measured only 6% faster per column, so the lanes stay at 16. See
 * docs/PERFORMANCE.md.
 *
 * <p>Exactness: a table entry is at most 4·128, a chunk adds 32 of them (16 384), then lanes are
 * widened into 32-bit per-row totals.
 */
public final class ColumnLutTernaryKernel implements TernaryKernel {

    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    /** Batch columns per sweep: the lanes. */
    static final int LANES = 16;
    /** Shorts of a chunk whose tables are built and swept together: 8 groups. */
    private static final int TILE_SHORTS = 4;
    private static final int TILES = TernaryMatrix.CHUNK_SHORTS / TILE_SHORTS;
    private static final int TILE_GROUPS = 2 * TILE_SHORTS; // two bytes per short
    /**
     * Entries per group table: indices go up to 2 + 8 + 32 + 128 = 170. Not 256: with 8 KB tables every
     * group would map onto the same L1 sets and evict the others.
     */
    private static final int ENTRIES = 172;
    private static final int GROUP_SHORTS = ENTRIES * LANES;

    /** Shorts of one slot's tables: the tile's groups. */
    private static final int SLOT_SHORTS = TILE_GROUPS * GROUP_SHORTS;
    /**
     * Slots: a power of two, at least two per core (the pool's workers and their callers), at most 128
     * (5.6 MB of tables); past that, products wait for a slot.
     */
    private static final int SLOTS = Math.min(128, Math.max(8, Integer.highestOneBit(4 * Runtime.getRuntime().availableProcessors() - 1)));
    /**
     * The tables of every slot, in one array. Its length is a constant to C2, which then proves the
     * table loads of {@link #rows} in bounds from the index arithmetic (slot masked, byte index
     * bounded) and drops their checks: 10–27% faster than per-thread arrays (docs/PERFORMANCE.md).
     * The padding covers the largest byte index of the last group (255 entries), which the bound
     * cannot exclude.
     */
    private static final short[] TABLES = new short[SLOTS * SLOT_SHORTS + 256 * LANES];

    /** A slot's other scratch, grown on demand and reused. */
    private static final class Scratch {
        final short[] columns = new short[TernaryMatrix.CHUNK_COLS * LANES]; // [matrix column][lane]
        final short[] pairs = new short[9 * LANES];                          // the high pair's sums
        int[] totals = new int[0];                                           // [row][lane]
        short[] partial = new short[0];                                      // [row][lane] within a chunk
    }

    private static final Scratch[] SCRATCH = new Scratch[SLOTS];
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
            int rows = rowEnd - rowStart;
            if (s.totals.length < rows * LANES) {
                s.totals = new int[rows * LANES];
                s.partial = new short[rows * LANES];
            }
            for (int b0 = 0; b0 < batch; b0 += LANES) {
                int n = Math.min(LANES, batch - b0);
                sweep(m, in, b0, n, rowStart, rowEnd, s, slot);
                int[] totals = s.totals;
                for (int b = 0; b < n; b++) {
                    float inv = in.inverseScale(b0 + b);
                    float[] o = out[b0 + b];
                    for (int r = rowStart; r < rowEnd; r++) o[outOffset + r] = TernaryKernel.rescale(totals[(r - rowStart) * LANES + b], m, inv);
                }
            }
        } finally {
            LEASED.set(slot, 0);
        }
    }

    /** totals[row][lane] = Σ T·x for batch columns b0 .. b0+n-1 and rows [rowStart, rowEnd). */
    private static void sweep(TernaryMatrix m, ActivationBatch in, int b0, int n, int rowStart, int rowEnd, Scratch s, int slot) {
        short[] w = m.chunks();
        int stride = m.rowShorts();
        int chunks = TernaryMatrix.chunksFor(m.cols());
        int rows = rowEnd - rowStart;
        int[] totals = s.totals;
        short[] partial = s.partial;
        java.util.Arrays.fill(totals, 0, rows * LANES, 0);
        for (int c = 0; c < chunks; c++) {
            transpose(in, b0, n, c * TernaryMatrix.CHUNK_COLS, s.columns);
            for (int t = 0; t < TILES; t++) {
                int i0 = t * TILE_SHORTS;
                buildTables(s, slot, i0);
                rows(w, slot, partial, totals, rowStart, rowEnd, stride, c * TernaryMatrix.CHUNK_SHORTS + i0, t == 0, t == TILES - 1);
            }
        }
    }

    /** One tile over the rows: a small method of its own, so that C2 keeps the arrays in registers. */
    private static void rows(short[] w, int slot, short[] partial, int[] totals, int rowStart, int rowEnd,
                             int stride, int offset, boolean first, boolean last) {
        short[] tables = TABLES;
        int table = slotBase(slot);
        int at = 0;
        for (int r = rowStart; r < rowEnd; r++, at += LANES) {
            int base = r * stride + offset;
            ShortVector acc = first ? ShortVector.zero(S) : ShortVector.fromArray(S, partial, at);
            ShortVector acc2 = ShortVector.zero(S);
            for (int i = 0; i < TILE_SHORTS; i++) {
                int v = w[base + i];
                acc = acc.add(ShortVector.fromArray(S, tables, table + (2 * i) * GROUP_SHORTS + (v & 0xFF) * LANES));
                acc2 = acc2.add(ShortVector.fromArray(S, tables, table + (2 * i + 1) * GROUP_SHORTS + ((v >>> 8) & 0xFF) * LANES));
            }
            acc = acc.add(acc2);
            if (!last) {
                acc.intoArray(partial, at);
            } else {
                IntVector lo = (IntVector) acc.convertShape(VectorOperators.S2I, I, 0);
                IntVector hi = (IntVector) acc.convertShape(VectorOperators.S2I, I, 1);
                IntVector.fromArray(I, totals, at).add(lo).intoArray(totals, at);
                IntVector.fromArray(I, totals, at + 8).add(hi).intoArray(totals, at + 8);
            }
        }
    }

    /** columns[j·16 + b] = code of batch column b0+b at matrix column col0+j (0 for unused lanes). */
    private static void transpose(ActivationBatch in, int b0, int n, int col0, short[] columns) {
        short[][] codes = in.codes();
        if (n < LANES) java.util.Arrays.fill(columns, (short) 0);
        for (int b = 0; b < n; b++) {
            short[] q = codes[b0 + b];
            for (int j = 0; j < TernaryMatrix.CHUNK_COLS; j++) columns[j * LANES + b] = q[col0 + j];
        }
    }

    /**
     * Tables of shorts i0 .. i0+TILE_SHORTS-1: group 2j + k is byte k of short i0+j and covers chunk
     * columns 64k + 16m + i0 + j, m = 0..3; entry u0 + 4u1 + 16u2 + 64u3 (u = T + 1) holds
     * Σ (u_m − 1)·x_m for each lane.
     */
    private static void buildTables(Scratch s, int slot, int i0) {
        short[] columns = s.columns, pairs = s.pairs, tables = TABLES;
        int slotBase = slotBase(slot);
        for (int g = 0; g < TILE_GROUPS; g++) {
            int col = 64 * (g & 1) + i0 + (g >>> 1);
            pairSums(columns, col + 32, col + 48, pairs, 0); // the high pair, read back per row of entries
            // the low pair's nine sums stay in registers: entry (a + 4b) + hiIndex = low[a + 3b] + high
            ShortVector xa = ShortVector.fromArray(S, columns, col * LANES);
            ShortVector xb = ShortVector.fromArray(S, columns, (col + 16) * LANES);
            ShortVector na = xa.neg(), nb = xb.neg();
            ShortVector l0 = na.add(nb), l2 = xa.sub(xb), l6 = xb.sub(xa), l8 = xa.add(xb);
            int base = slotBase + g * GROUP_SHORTS;
            for (int hi = 0; hi < 9; hi++) {
                ShortVector h = ShortVector.fromArray(S, pairs, hi * LANES);
                int at = base + (16 * (hi % 3) + 64 * (hi / 3)) * LANES;
                h.add(l0).intoArray(tables, at);
                h.add(nb).intoArray(tables, at + LANES);
                h.add(l2).intoArray(tables, at + 2 * LANES);
                h.add(na).intoArray(tables, at + 4 * LANES);
                h.intoArray(tables, at + 5 * LANES);
                h.add(xa).intoArray(tables, at + 6 * LANES);
                h.add(l6).intoArray(tables, at + 8 * LANES);
                h.add(xb).intoArray(tables, at + 9 * LANES);
                h.add(l8).intoArray(tables, at + 10 * LANES);
            }
        }
    }

    /** pairs[at + (a + 3b)·16 ..] = (a−1)·x[colA] + (b−1)·x[colB] per lane. */
    private static void pairSums(short[] columns, int colA, int colB, short[] pairs, int at) {
        ShortVector xa = ShortVector.fromArray(S, columns, colA * LANES);
        ShortVector xb = ShortVector.fromArray(S, columns, colB * LANES);
        ShortVector na = xa.neg(), nb = xb.neg(), z = ShortVector.zero(S);
        na.add(nb).intoArray(pairs, at);
        nb.intoArray(pairs, at + LANES);
        xa.sub(xb).intoArray(pairs, at + 2 * LANES);
        na.intoArray(pairs, at + 3 * LANES);
        z.intoArray(pairs, at + 4 * LANES);
        xa.intoArray(pairs, at + 5 * LANES);
        xb.sub(xa).intoArray(pairs, at + 6 * LANES);
        xb.intoArray(pairs, at + 7 * LANES);
        xa.add(xb).intoArray(pairs, at + 8 * LANES);
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
