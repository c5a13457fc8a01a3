package io.ternstream.engine.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every fast kernel against the scalar twin of its layout: bit-identical outputs on awkward shapes. */
class TernaryKernelTest {

    private static final int[] ROWS = {1, 7, 32, 33, 95};
    private static final int[] COLS = {1, 8, 9, 31, 63, 64, 65, 130, 577};

    @Test
    void vectorKernelMatchesScalarTwin() {
        compareOnRandomShapes(new VectorTernaryKernel(), new ScalarTernaryKernel(TernaryMatrix.Layout.BITMASKS));
    }

    @Test
    void lutKernelMatchesScalarTwin() {
        compareOnRandomShapes(new LutTernaryKernel(), new ScalarTernaryKernel(TernaryMatrix.Layout.TRIPLETS));
    }

    @Test
    void mulAddKernelMatchesScalarTwin() {
        compareOnRandomShapes(new MulAddTernaryKernel(), new ScalarTernaryKernel(TernaryMatrix.Layout.INTERLEAVED));
    }

    @Test
    void columnLutKernelMatchesScalarTwin() {
        for (boolean copy : new boolean[] {true, false}) { // with its copy of the weights and without
            compareOnRandomShapes(new ColumnLutTernaryKernel(copy), new ScalarTernaryKernel(TernaryMatrix.Layout.INTERLEAVED));
            compareOnRandomShapes(new ColumnLutTernaryKernel(copy), new ScalarTernaryKernel(TernaryMatrix.Layout.INTERLEAVED),
                    new int[] {16, 17, 32, 37, 3}, new int[] {33, 64}, new int[] {9, 128, 300});
        }
    }

    /** The copy's policy: auto by the model's packed size; true and false as given; anything else refused by name. */
    @Test
    void columnLutCopyPolicy() {
        assertEquals(true, ColumnLutTernaryKernel.copyFor(tuning("auto"), 3_440_640));      // the bundled model
        assertEquals(false, ColumnLutTernaryKernel.copyFor(tuning("auto"), 85L << 20));     // a 370M shape
        assertEquals(true, ColumnLutTernaryKernel.copyFor(tuning("true"), 85L << 20));
        assertEquals(false, ColumnLutTernaryKernel.copyFor(tuning("false"), 1));
        var e = assertThrows(IllegalArgumentException.class, () -> tuning("yes"));
        org.assertj.core.api.Assertions.assertThat(e.getMessage()).contains("ternstream.columnLut.copy").contains("yes");
        assertThrows(IllegalArgumentException.class, () -> new EngineTuning(null, "auto", 0));
    }

    private static EngineTuning tuning(String copy) {
        return new EngineTuning(null, copy, 7);
    }

    /** Rows past one block of the sweep (4096), both ways: the partial sums restart per block. */
    @Test
    void columnLutSweepsRowsInBlocks() {
        for (boolean copy : new boolean[] {true, false}) {
            compareOnRandomShapes(new ColumnLutTernaryKernel(copy), new ScalarTernaryKernel(TernaryMatrix.Layout.INTERLEAVED),
                    new int[] {16}, new int[] {ColumnLutTernaryKernel.BLOCK_ROWS + 40}, new int[] {130});
        }
    }

    /** The column LUT leases table slots per product: more threads than slots must never share one. */
    @Test
    void columnLutKernelOnMoreThreadsThanSlots() throws Exception {
        int threads = 24, rows = 300, cols = 577, batch = 19;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            var results = new java.util.ArrayList<java.util.concurrent.Future<?>>();
            for (int t = 0; t < threads; t++) {
                long seed = t;
                results.add(pool.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    TernaryKernel fast = new ColumnLutTernaryKernel(), reference = new ScalarTernaryKernel(TernaryMatrix.Layout.INTERLEAVED);
                    byte[] codes = randomCodes(random, rows, cols);
                    TernaryMatrix m = TernaryMatrix.fromCodes(rows, cols, codes, 0.5f, TernaryMatrix.Layout.INTERLEAVED);
                    ActivationBatch inFast = new ActivationBatch(fast, batch, cols), inRef = new ActivationBatch(reference, batch, cols);
                    fill(random, inFast, inRef, batch, cols);
                    float[][] want = new float[batch][rows];
                    reference.multiply(m, inRef, batch, want, 0, 0, rows);
                    for (int round = 0; round < 20; round++) {
                        float[][] got = new float[batch][rows];
                        fast.multiply(m, inFast, batch, got, 0, 0, rows);
                        for (int b = 0; b < batch; b++) assertArrayEquals(want[b], got[b], "thread " + seed + " round " + round + " column " + b);
                    }
                    return null;
                }));
            }
            for (var r : results) r.get(); // rethrows a failed comparison
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void interleavedKernelMatchesScalarTwinAtEveryBatch() {
        compareOnRandomShapes(new InterleavedTernaryKernel(), new ScalarTernaryKernel(TernaryMatrix.Layout.INTERLEAVED),
                new int[] {1, 2, 3, 4, 5, 16, 40}, new int[] {7, 33}, new int[] {65, 256, 577});
    }

    @Test
    void allScalarLayoutsAgree() {
        compareOnRandomShapes(new ScalarTernaryKernel(TernaryMatrix.Layout.TRIPLETS), new ScalarTernaryKernel(TernaryMatrix.Layout.BITMASKS));
        compareOnRandomShapes(new ScalarTernaryKernel(TernaryMatrix.Layout.INTERLEAVED), new ScalarTernaryKernel(TernaryMatrix.Layout.BITMASKS));
    }

    /** Extreme activations on long rows: 16-bit partial sums must be widened before they overflow. */
    @Test
    void longRowsOfExtremeValuesStayExact() {
        int rows = 64, cols = 4000;
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) codes[r * cols + c] = (byte) (r % 3 == 0 ? 1 : r % 3 == 1 ? -1 : (c % 2 == 0 ? 1 : -1));
        for (TernaryKernel fast : new TernaryKernel[] {new VectorTernaryKernel(), new LutTernaryKernel(), new MulAddTernaryKernel(), new ColumnLutTernaryKernel(true), new ColumnLutTernaryKernel(false)}) {
            for (short value : new short[] {127, -128}) {
                ActivationBatch in = new ActivationBatch(fast, 2, cols);
                ActivationBatch ref = new ActivationBatch(new ScalarTernaryKernel(fast.layout()), 2, cols);
                in.begin(cols);
                ref.begin(cols);
                for (int b = 0; b < 2; b++) {
                    java.util.Arrays.fill(in.codes(b), 0, cols, value);
                    java.util.Arrays.fill(ref.codes(b), 0, cols, value);
                    in.commit(b, 1f);
                    ref.commit(b, 1f);
                }
                TernaryMatrix m = TernaryMatrix.fromCodes(rows, cols, codes, 1f, fast.layout());
                float[][] got = new float[2][rows], want = new float[2][rows];
                fast.multiply(m, in, 2, got, 0, 0, rows);
                new ScalarTernaryKernel(fast.layout()).multiply(m, ref, 2, want, 0, 0, rows);
                assertArrayEquals(want[0], got[0], fast.name());
                assertEquals((float) (cols * value), got[0][0], fast.name() + ": all +1 row");
                assertEquals((float) (-cols * value), got[0][1], fast.name() + ": all -1 row");
            }
        }
    }

    @Test
    void codesSurvivePackingInBothLayouts() {
        SplittableRandom random = new SplittableRandom(3);
        int rows = 33, cols = 70;
        byte[] codes = randomCodes(random, rows, cols);
        for (TernaryMatrix.Layout layout : TernaryMatrix.Layout.values()) {
            TernaryMatrix m = TernaryMatrix.fromCodes(rows, cols, codes, 1f, layout);
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) assertEquals(codes[r * cols + c], m.code(r, c), layout + " at " + r + "," + c);
        }
    }

    /**
     * The column LUT's copy: for chunk c, tile t, row r, group g (byte g mod 2 of short 4t + g/2, so
     * columns 128c + 64(g mod 2) + 16m + 4t + g/2), the table offset 16·Σ 3^m·(T_m + 1).
     */
    @Test
    void tableOffsetsHoldTheCodesInBase3() {
        SplittableRandom random = new SplittableRandom(5);
        int rows = 5, cols = 300;
        byte[] codes = randomCodes(random, rows, cols);
        TernaryMatrix m = TernaryMatrix.fromCodes(rows, cols, codes, 1f, TernaryMatrix.Layout.INTERLEAVED);
        char[] offsets = m.derived(char[].class, ColumnLutTernaryKernel::tableOffsets);
        org.junit.jupiter.api.Assertions.assertSame(offsets, m.derived(char[].class, ColumnLutTernaryKernel::tableOffsets), "built once");
        int chunks = TernaryMatrix.chunksFor(cols);
        assertEquals(chunks * 4 * rows * 8, offsets.length);
        assertThrows(IllegalStateException.class, () -> m.derived(short[].class, x -> new short[0]), "one derived form per matrix");
        for (int c = 0; c < chunks; c++) {
            for (int t = 0; t < 4; t++) {
                for (int r = 0; r < rows; r++) {
                    for (int g = 0; g < 8; g++) {
                        int offset = offsets[((c * 4 + t) * rows + r) * 8 + g];
                        assertEquals(0, offset % 16, "a whole entry");
                        int index = offset / 16;
                        for (int digit = 0; digit < 4; digit++, index /= 3) {
                            int col = 128 * c + 64 * (g % 2) + 16 * digit + 4 * t + g / 2;
                            int expected = col < cols ? codes[r * cols + col] : 0; // padding holds T = 0
                            assertEquals(expected, index % 3 - 1, "row " + r + " column " + col);
                        }
                    }
                }
            }
        }
    }

    @Test
    void rejectsCodesOutsideTernaryAndMismatchedLayouts() {
        assertThrows(IllegalArgumentException.class, () -> TernaryMatrix.fromCodes(1, 3, new byte[] {0, 2, 0}, 1f, TernaryMatrix.Layout.TRIPLETS));
        TernaryMatrix bitmasks = TernaryMatrix.fromCodes(1, 3, new byte[] {0, 1, 0}, 1f, TernaryMatrix.Layout.BITMASKS);
        LutTernaryKernel lut = new LutTernaryKernel();
        ActivationBatch in = new ActivationBatch(lut, 1, 3);
        in.begin(3);
        in.commit(0, 1f);
        assertThrows(IllegalArgumentException.class, () -> lut.multiply(bitmasks, in, 1, new float[1][1], 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> TernaryKernel.byName("fastest"));
    }

    /** Larger batches (batched sessions, prefill chunks) through the LUT kernel's row-chunk sweep. */
    @Test
    void lutKernelLargeBatchesMatchScalarTwin() {
        compareOnRandomShapes(new LutTernaryKernel(), new ScalarTernaryKernel(TernaryMatrix.Layout.TRIPLETS), new int[] {16, 19, 32, 37}, new int[] {33, 64}, new int[] {9, 65, 577});
    }

    private static void compareOnRandomShapes(TernaryKernel fast, TernaryKernel reference) {
        compareOnRandomShapes(fast, reference, null, ROWS, COLS);
    }

    private static void compareOnRandomShapes(TernaryKernel fast, TernaryKernel reference, int[] batches, int[] rowCounts, int[] colCounts) {
        SplittableRandom random = new SplittableRandom(42);
        int bi = 0;
        for (int rows : rowCounts) {
            for (int cols : colCounts) {
                byte[] codes = randomCodes(random, rows, cols);
                float dequant = 0.01f + random.nextFloat();
                TernaryMatrix mFast = TernaryMatrix.fromCodes(rows, cols, codes, dequant, fast.layout());
                TernaryMatrix mRef = TernaryMatrix.fromCodes(rows, cols, codes, dequant, reference.layout());
                int batch = batches == null ? 1 + random.nextInt(9) : batches[bi++ % batches.length];
                ActivationBatch inFast = new ActivationBatch(fast, 40, cols + 40);
                ActivationBatch inRef = new ActivationBatch(reference, 40, cols + 40);
                // a wider product first leaves stale codes past cols: they must not leak into the result
                fill(random, inFast, inRef, batch, cols + 40);
                fill(random, inFast, inRef, batch, cols);
                float[][] got = new float[batch][rows + 3], want = new float[batch][rows + 3];
                int split = rows > TernaryMatrix.ROW_BLOCK ? TernaryMatrix.ROW_BLOCK : rows;
                fast.multiply(mFast, inFast, batch, got, 3, 0, split);   // two parts, as the worker pool splits
                fast.multiply(mFast, inFast, batch, got, 3, split, rows);
                reference.multiply(mRef, inRef, batch, want, 3, 0, rows);
                for (int b = 0; b < batch; b++) {
                    assertArrayEquals(want[b], got[b], fast.name() + " vs " + reference.name() + " " + rows + "x" + cols + " batch " + batch + " column " + b);
                }
            }
        }
    }

    private static void fill(SplittableRandom random, ActivationBatch a, ActivationBatch b, int batch, int cols) {
        a.begin(cols);
        b.begin(cols);
        for (int c = 0; c < batch; c++) {
            for (int i = 0; i < cols; i++) {
                short q = (short) (random.nextInt(256) - 128);
                a.codes(c)[i] = q;
                b.codes(c)[i] = q;
            }
            float inv = random.nextFloat() / 127f;
            a.commit(c, inv);
            b.commit(c, inv);
        }
    }

    private static byte[] randomCodes(SplittableRandom random, int rows, int cols) {
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) codes[i] = (byte) (random.nextInt(3) - 1);
        return codes;
    }
}
