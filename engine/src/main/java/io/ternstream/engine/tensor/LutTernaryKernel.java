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
    public void multiply(TernaryMatrix m, ActivationBatch in, int batch, float[][] out, int outOffset, int rowStart, int rowEnd) {
        TernaryKernel.checkOperands(m, in, this);
        if (rowStart >= rowEnd) return;
        if (rowStart % LANES != 0) throw new IllegalArgumentException("rowStart must start a row block, got " + rowStart);
        short[] w = m.triplets();
        int triples = m.triples();
        short[][] tables = in.tables();
        float[] inv = in.inverseScales();
        float dq = m.dequant();
        if (batch == 1) {
            for (int r0 = rowStart; r0 < rowEnd; r0 += LANES) {
                block1(w, (r0 / LANES) * triples * LANES, triples, tables[0], out[0], outOffset + r0, inv[0], dq, Math.min(LANES, rowEnd - r0));
            }
            return;
        }
        // Several columns: a chunk of row blocks (weights about L2_CHUNK_BYTES) is swept once per column,
        // so each column's table (3 · 64 bytes per triple) is read from L1 and the chunk's weights
        // (64 bytes per triple) from L2, while memory sees the weights once.
        int blocksPerChunk = Math.max(1, L2_CHUNK_BYTES / (triples * LANES * 2));
        for (int c0 = rowStart; c0 < rowEnd; c0 += blocksPerChunk * LANES) {
            int c1 = Math.min(rowEnd, c0 + blocksPerChunk * LANES);
            for (int b = 0; b < batch; b++) {
                for (int r0 = c0; r0 < c1; r0 += LANES) {
                    block1(w, (r0 / LANES) * triples * LANES, triples, tables[b], out[b], outOffset + r0, inv[b], dq, Math.min(LANES, rowEnd - r0));
                }
            }
        }
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
        // out[o + i] = dot_i · inv · dq for the first `valid` rows, the float operations of TernaryKernel.rescale;
        // written here, not in a helper taking the vectors, which C2 may compile as a call that boxes them
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
