package io.ternstream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lookup-table kernel over {@link TernaryMatrix.Layout#TRIPLETS} weights (1.78 bits per weight). For
 * every group of three activations the column's table holds the 27 possible sums
 * {@code t0·x0 + t1·x1 + t2·x2}; a weight group's base-3 index selects its sum. One 512-bit
 * {@code selectFrom} (vpermw) thus applies 3 weights to 32 rows at once, with the rows in the lanes, so
 * a row block ends with its 32 outputs side by side and no horizontal reduction. The three 5-bit
 * indices of a 16-bit weight lane need only shifts: {@code selectFrom} wraps indices to the low 5 bits.
 *
 * <p>Exactness: a table entry is at most 3·128 in magnitude, a triple of groups adds at most 1152 to a
 * 16-bit lane, so lanes are widened into 32-bit totals every {@link #TRIPLES_PER_FLUSH} triples.
 * Several columns (batched sessions, prefill positions) sweep a cache-sized chunk of rows in turn,
 * so memory traffic for weights is paid once per step whatever the batch. (A tile that decodes each
 * weight vector once for four columns was slower: C2 stopped scalar-replacing its sixteen live vectors
 * and allocated them.)
 */
public final class LutTernaryKernel implements TernaryKernel {

    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final int LANES = TernaryMatrix.ROW_BLOCK;
    /** Shorts of table per group triple: three 32-entry tables. */
    private static final int TABLE_PER_TRIPLE = 3 * LANES;
    /** 28 · 1152 = 32256 ≤ 32767. */
    private static final int TRIPLES_PER_FLUSH = 28;
    /** Weights swept per column when several columns share a product: well inside a 1–2 MB L2. */
    private static final int L2_CHUNK_BYTES = 256 * 1024;

    /** Tile form: 16 columns in the 16-bit lanes of a 256-bit vector. */
    private static final VectorSpecies<Short> TS = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> TI = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> TF = FloatVector.SPECIES_512;
    private static final int TILE = 16;
    /** Shorts of tile table per group: 27 sums × 16 columns. */
    private static final int TILE_GROUP = 27 * TILE;
    /** Per-thread landing place of a tile row's 16 outputs, which go to 16 different arrays. */
    private static final ThreadLocal<float[]> LANE_SCRATCH = ThreadLocal.withInitial(() -> new float[TILE]);

    /** Lane k of COEF[j] is digit j of k in base 3, minus one: the code of weight j in group index k. */
    private static final ShortVector[] COEF = new ShortVector[3];

    static {
        if (S.length() != LANES) throw new IllegalStateException("LUT kernel needs " + LANES + " 16-bit lanes");
        for (int j = 0; j < 3; j++) {
            short[] c = new short[LANES];
            for (int k = 0; k < 27; k++) {
                int digit = k;
                for (int d = 0; d < j; d++) digit /= 3;
                c[k] = (short) (digit % 3 - 1);
            }
            COEF[j] = ShortVector.fromArray(S, c, 0);
        }
    }

    @Override
    public TernaryMatrix.Layout layout() {
        return TernaryMatrix.Layout.TRIPLETS;
    }

    @Override
    public int tableLength(int cols) {
        return TernaryMatrix.triplesFor(cols) * TABLE_PER_TRIPLE;
    }

    /** table[32·g + k] = sum over j of (digit_j(k) - 1) · codes[3g + j], for k < 27 (lanes 27..31 are 0). */
    @Override
    public void prepare(short[] codes, int cols, short[] table) {
        ShortVector c0 = COEF[0], c1 = COEF[1], c2 = COEF[2];
        int groups = TernaryMatrix.triplesFor(cols) * 3;
        for (int g = 0; g < groups; g++) {
            int c = 3 * g; // codes are zero from cols up to paddedColsFor(cols) ≥ 3·groups
            c0.mul(codes[c]).add(c1.mul(codes[c + 1])).add(c2.mul(codes[c + 2])).intoArray(table, g * LANES);
        }
    }

    @Override
    public int columnTile() {
        return TILE;
    }

    @Override
    public int tileTableLength(int cols) {
        return TernaryMatrix.triplesFor(cols) * 3 * TILE_GROUP;
    }

    /**
     * The tile form of 16 columns: for group g and index k, a vector over the columns of the sum
     * {@code t0·x0 + t1·x1 + t2·x2} at {@code table[(27·g + k)·16]}. A weight row then needs one vector
     * load and add per group for all 16 columns, with the index decoded once instead of per column.
     */
    @Override
    public void prepareTile(short[][] codes, int first, int cols, short[] xt, short[] table) {
        int groups = TernaryMatrix.triplesFor(cols) * 3;
        for (int lane = 0; lane < TILE; lane++) {
            short[] q = codes[first + lane];
            for (int c = 0; c < 3 * groups; c++) xt[c * TILE + lane] = q[c]; // zero past cols (commit)
        }
        for (int g = 0; g < groups; g++) {
            ShortVector x0 = ShortVector.fromArray(TS, xt, 3 * g * TILE);
            ShortVector x1 = ShortVector.fromArray(TS, xt, (3 * g + 1) * TILE);
            ShortVector x2 = ShortVector.fromArray(TS, xt, (3 * g + 2) * TILE);
            ShortVector n0 = x0.neg(), n1 = x1.neg(), n2 = x2.neg();
            int at = g * TILE_GROUP;
            // the nine sums of t0·x0 + t1·x1, index d0 + 3·d1, each completed with t2 = -1, 0, +1
            storeThree(table, at, 0, n0.add(n1), n2, x2);
            storeThree(table, at, 1, n1, n2, x2);
            storeThree(table, at, 2, x0.add(n1), n2, x2);
            storeThree(table, at, 3, n0, n2, x2);
            storeThree(table, at, 4, ShortVector.zero(TS), n2, x2);
            storeThree(table, at, 5, x0, n2, x2);
            storeThree(table, at, 6, n0.add(x1), n2, x2);
            storeThree(table, at, 7, x1, n2, x2);
            storeThree(table, at, 8, x0.add(x1), n2, x2);
        }
    }

    private static void storeThree(short[] table, int at, int k, ShortVector pair, ShortVector n2, ShortVector x2) {
        pair.add(n2).intoArray(table, at + k * TILE);
        pair.intoArray(table, at + (k + 9) * TILE);
        pair.add(x2).intoArray(table, at + (k + 18) * TILE);
    }

    @Override
    public void multiply(TernaryMatrix m, ActivationBatch in, int batch, float[][] out, int outOffset, int rowStart, int rowEnd) {
        TernaryKernel.checkLayout(m, this);
        if (in.cols() != m.cols()) throw new IllegalArgumentException("activations have " + in.cols() + " columns, matrix " + m.cols());
        if (rowStart >= rowEnd) return;
        if (rowStart % LANES != 0) throw new IllegalArgumentException("rowStart must start a row block, got " + rowStart);
        short[] w = m.triplets();
        int triples = m.triples();
        short[][] tables = in.tables();
        float[] inv = in.inverseScales();
        float dq = m.dequant();
        int tiled = in.tiledColumns(batch);
        short[][] tileTables = in.tileTables();
        for (int first = 0; first < tiled; first += TILE) {
            FloatVector scale = FloatVector.fromArray(TF, inv, first);
            float[] lanes = LANE_SCRATCH.get();
            for (int r = rowStart; r < rowEnd; r++) {
                tileRow(w, (r / LANES) * triples * LANES + r % LANES, triples, tileTables[first / TILE], scale, dq, lanes);
                for (int lane = 0; lane < TILE; lane++) out[first + lane][outOffset + r] = lanes[lane];
            }
        }
        if (tiled == batch) return;
        if (batch - tiled == 1) {
            for (int r0 = rowStart; r0 < rowEnd; r0 += LANES) {
                block1(w, (r0 / LANES) * triples * LANES, triples, tables[tiled], out[tiled], outOffset + r0, inv[tiled], dq, Math.min(LANES, rowEnd - r0));
            }
            return;
        }
        // Several columns: a chunk of row blocks (weights about L2_CHUNK_BYTES) is swept once per column,
        // so each column's table (3 · 64 bytes per triple) is read from L1 and the chunk's weights
        // (64 bytes per triple) from L2, while memory sees the weights once.
        int blocksPerChunk = Math.max(1, L2_CHUNK_BYTES / (triples * LANES * 2));
        for (int c0 = rowStart; c0 < rowEnd; c0 += blocksPerChunk * LANES) {
            int c1 = Math.min(rowEnd, c0 + blocksPerChunk * LANES);
            for (int b = tiled; b < batch; b++) {
                for (int r0 = c0; r0 < c1; r0 += LANES) {
                    block1(w, (r0 / LANES) * triples * LANES, triples, tables[b], out[b], outOffset + r0, inv[b], dq, Math.min(LANES, rowEnd - r0));
                }
            }
        }
    }

    /** One weight row against a tile of 16 columns; writes the 16 rescaled outputs to {@code lanes}. */
    private static void tileRow(short[] w, int at, int triples, short[] t, FloatVector scale, float dq, float[] lanes) {
        IntVector total = IntVector.zero(TI);
        for (int k0 = 0; k0 < triples; k0 += TRIPLES_PER_FLUSH) {
            int k1 = Math.min(triples, k0 + TRIPLES_PER_FLUSH);
            ShortVector acc = ShortVector.zero(TS);
            for (int k = k0; k < k1; k++) {
                int s = w[at + k * LANES];
                int base = k * 3 * TILE_GROUP;
                acc = acc.add(ShortVector.fromArray(TS, t, base + (s & 31) * TILE)
                        .add(ShortVector.fromArray(TS, t, base + TILE_GROUP + ((s >>> 5) & 31) * TILE))
                        .add(ShortVector.fromArray(TS, t, base + 2 * TILE_GROUP + ((s >>> 10) & 31) * TILE)));
            }
            total = total.add(acc.convertShape(VectorOperators.S2I, TI, 0).reinterpretAsInts());
        }
        total.convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scale).mul(dq).intoArray(lanes, 0);
    }

    private static void block1(short[] w, int base, int triples, short[] t, float[] out, int o, float inv, float dq, int valid) {
        IntVector lo = IntVector.zero(I), hi = lo;
        for (int k0 = 0; k0 < triples; k0 += TRIPLES_PER_FLUSH) {
            int k1 = Math.min(triples, k0 + TRIPLES_PER_FLUSH);
            ShortVector acc = ShortVector.zero(S);
            for (int k = k0; k < k1; k++) {
                ShortVector v = ShortVector.fromArray(S, w, base + k * LANES);
                ShortVector v5 = v.lanewise(VectorOperators.LSHR, 5);
                ShortVector v10 = v.lanewise(VectorOperators.LSHR, 10);
                int tb = k * TABLE_PER_TRIPLE;
                ShortVector s = v.selectFrom(ShortVector.fromArray(S, t, tb))
                        .add(v5.selectFrom(ShortVector.fromArray(S, t, tb + LANES)))
                        .add(v10.selectFrom(ShortVector.fromArray(S, t, tb + 2 * LANES)));
                acc = acc.add(s);
            }
            lo = lo.add(acc.convertShape(VectorOperators.S2I, I, 0).reinterpretAsInts());
            hi = hi.add(acc.convertShape(VectorOperators.S2I, I, 1).reinterpretAsInts());
        }
        store(lo, hi, out, o, inv, dq, valid);
    }

    /** out[o + i] = dot_i · inv · dq for the first {@code valid} rows: the same float operations as {@link TernaryKernel#rescale}. */
    private static void store(IntVector lo, IntVector hi, float[] out, int o, float inv, float dq, int valid) {
        FloatVector fl = lo.convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(inv).mul(dq);
        FloatVector fh = hi.convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(inv).mul(dq);
        int half = F.length();
        if (valid == LANES) {
            fl.intoArray(out, o);
            fh.intoArray(out, o + half);
        } else {
            fl.intoArray(out, o, VectorMask.fromLong(F, valid >= half ? -1L : (1L << valid) - 1));
            if (valid > half) fh.intoArray(out, o + half, VectorMask.fromLong(F, (1L << (valid - half)) - 1));
        }
    }

    @Override
    public String name() {
        return "lut";
    }
}
