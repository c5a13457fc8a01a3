package io.ternstream.engine.model;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vectorized quantizer gives the integers of the scalar rule on awkward inputs and lengths. */
class ActivationsVectorTest {

    /** The arithmetic-only exp stays within 1 ulp of e^x (1.2e-7 relative) and clamps far inputs to finite values. */
    @Test
    void vectorExpIsAccurateAndFinite() {
        int n = 37; // whole vectors and a masked tail
        float[] negated = new float[n], out = new float[n];
        SplittableRandom random = new SplittableRandom(11);
        for (int round = 0; round < 5_000; round++) {
            for (int i = 0; i < n; i++) negated[i] = -(float) (random.nextDouble() * 175 - 87);
            Activations.expNeg(negated, 0, out, 0, 0, n);
            for (int i = 0; i < n; i++) {
                double want = Math.exp(-negated[i]);
                assertEquals(want, out[i], Math.ulp((float) want), "exp(" + -negated[i] + ")");
            }
        }
        float[] far = new float[n];
        java.util.Arrays.fill(far, 1000f);
        far[0] = -1000f;
        Activations.expNeg(far, 0, out, 0, 0, n);
        assertEquals(Math.exp(88), out[0], Math.exp(88) * 3e-7);
        for (int i = 1; i < n; i++) assertEquals(0f, out[i], 1e-37f);
    }

    /** In place and at an offset, a range gives the same values as the whole array. */
    @Test
    void expNegOfARangeMatchesTheWhole() {
        float[] x = new float[50], whole = new float[50], part = new float[60];
        for (int i = 0; i < x.length; i++) x[i] = (i - 25) * 0.7f;
        Activations.expNeg(x, 0, whole, 0, 0, 50);
        Activations.expNeg(x, 0, part, 10, 3, 45);
        for (int i = 3; i < 45; i++) assertEquals(whole[i], part[10 + i], "element " + i);
        Activations.expNeg(x, 0, x, 0, 0, 50);
        org.junit.jupiter.api.Assertions.assertArrayEquals(whole, x);
    }

    @Test
    void vectorQuantizationMatchesScalarRule() {
        SplittableRandom random = new SplittableRandom(7);
        for (int n : new int[] {1, 15, 16, 17, 100, 1024, 2816}) {
            float[] x = new float[n], w = new float[n], scratch = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) random.nextGaussian() * (i % 7 == 0 ? 30f : 1f);
                w[i] = 0.5f + random.nextFloat();
            }
            short[] codes = new short[n + 16];
            float inv = Activations.quantizeNormed(x, w, n, codes, scratch);
            float r = scalarRms(x, n);
            float max = 0;
            for (int i = 0; i < n; i++) max = Math.max(max, Math.abs((x[i] * r) * w[i]));
            float s = 127f / Math.max(max, 1e-5f);
            assertEquals(1f / s, inv, "scale, n=" + n);
            for (int i = 0; i < n; i++) {
                long expected = Math.clamp(Activations.roundHalfAway(((x[i] * r) * w[i]) * s), -128, 127);
                assertEquals(expected, codes[i], "code " + i + " of " + n);
            }
        }
    }

    /** Values on and next to the rounding boundaries, through the vector path (w = 1, one value at 127 fixes s = 1). */
    @Test
    void halvesRoundAwayFromZero() {
        float[] values = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f, 126.5f, -126.5f,
                Math.nextDown(0.5f), Math.nextUp(0.5f), 0f, -0f, 3.4999998f, -3.5000002f};
        int n = 32;
        float[] x = new float[n], w = new float[n], scratch = new float[n];
        java.util.Arrays.fill(w, 1f);
        System.arraycopy(values, 0, x, 0, values.length);
        x[n - 1] = 127f;
        short[] codes = new short[n];
        float r = Activations.rmsFactor(x, n, Activations.NORM_EPS);
        float inv = Activations.quantizeNormed(x, r, w, n, codes, scratch);
        float s = 1f / inv;
        for (int i = 0; i < n; i++) {
            long expected = Math.clamp(Activations.roundHalfAway((x[i] * r) * s), -128, 127);
            assertEquals(expected, codes[i], "value " + x[i]);
        }
    }

    /** Every half between two codes, and its float neighbours, with s = 1 (r = 1, w = 1, max 127): the vector path's ties. */
    @Test
    void everyHalfBetweenCodesAndItsNeighbours() {
        int n = 3 * 254 + 1;
        float[] x = new float[n], w = new float[n], scratch = new float[n];
        java.util.Arrays.fill(w, 1f);
        int at = 0;
        for (int k = -127; k < 127; k++) {
            float half = k + 0.5f;
            x[at++] = half;
            x[at++] = Math.nextDown(half);
            x[at++] = Math.nextUp(half);
        }
        x[n - 1] = 127f;
        short[] codes = new short[n];
        assertEquals(1f, Activations.quantizeNormed(x, 1f, w, n, codes, scratch));
        for (int i = 0; i < at; i++) {
            assertEquals(Math.clamp(Activations.roundHalfAway(x[i]), -128, 127), codes[i], "value " + x[i]);
        }
    }

    /** A NaN (a broken checkpoint) still gives codes in [-128, 127]: the kernels' 16-bit sums rely on it. */
    @Test
    void notANumberStillGivesCodesInRange() {
        int n = 40;
        float[] x = new float[n], w = new float[n], scratch = new float[n];
        java.util.Arrays.fill(w, 1f);
        for (int i = 0; i < n; i++) x[i] = i - 20f;
        x[3] = Float.NaN;
        short[] codes = new short[n];
        Activations.quantizeNormed(x, 1f, w, n, codes, scratch);
        for (short c : codes) org.junit.jupiter.api.Assertions.assertTrue(c >= -128 && c <= 127, "code " + c);
    }

    /**
     * The sum of squares keeps one order whether interpreted or compiled: the fixed order of
     * {@link Activations#sumOfSquares}, bit for bit, before and after C2 compiles it. (With reduceLanes,
     * C2 added the lanes in another order than the interpreter, and the compiled sums differed.)
     */
    @Test
    void sumOfSquaresKeepsItsOrderWhenCompiled() {
        SplittableRandom random = new SplittableRandom(13);
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        for (int round = 0; round < 200_000; round++) { // enough calls for C2 to compile it
            int n = 2 * lanes + round % lanes;          // whole vectors and a tail
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (random.nextDouble() * Math.pow(10, random.nextInt(9)));
            double want = orderedSumOfSquares(x, n, lanes);
            double got = Activations.sumOfSquares(x, n);
            if (got != want) org.junit.jupiter.api.Assertions.fail("round " + round + ": " + got + " != " + want);
        }
    }

    /**
     * Σ x² in the fixed order: element i of the whole vectors into accumulator i mod lanes, accumulators
     * j and j + lanes/2 paired, the pairs added left to right, then the tail.
     */
    private static double orderedSumOfSquares(float[] x, int n, int lanes) {
        double[] acc = new double[lanes];
        int bound = n - n % lanes;
        for (int i = 0; i < bound; i++) acc[i % lanes] += (double) x[i] * x[i];
        int half = lanes / 2;
        double sum = acc[0] + acc[half];
        for (int j = 1; j < half; j++) sum += acc[j] + acc[j + half];
        for (int i = bound; i < n; i++) sum += (double) x[i] * x[i];
        return sum;
    }

    private static float scalarRms(float[] x, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double) x[i] * x[i];
        return (float) (1.0 / Math.sqrt(sum / n + Activations.NORM_EPS));
    }
}
