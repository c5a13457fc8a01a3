package io.ternstream.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SamplerTest {

    private static float[] logits(long seed, int vocab) {
        Random r = new Random(seed);
        float[] l = new float[vocab];
        for (int i = 0; i < vocab; i++) l[i] = (float) r.nextGaussian() * 3;
        return l;
    }

    private static int[] run(SamplingParams p, int steps) {
        Sampler s = new Sampler(p);
        int[] out = new int[steps];
        for (int i = 0; i < steps; i++) out[i] = s.sample(logits(i, 1000), null, 0);
        return out;
    }

    @Test
    void greedyIsArgmax() {
        float[] l = {0.1f, 2f, -1f, 1.9f};
        assertEquals(1, new Sampler(SamplingParams.greedy()).sample(l.clone(), null, 0));
    }

    /** The definition the vector argmax must keep: the first strictly greater value wins, NaN never does. */
    private static int scalarArgmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    @Test
    void argmaxIsTheFirstLargestAsAScalarScanFindsIt() {
        Random r = new Random(7);
        float[] specials = {Float.NaN, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, 1f};
        for (int trial = 0; trial < 4000; trial++) {
            int n = trial % 3 == 0 ? 8192 + r.nextInt(17) : r.nextInt(70);
            float[] v = new float[n];
            int distinct = 1 + r.nextInt(6); // few distinct values: ties everywhere
            for (int i = 0; i < n; i++) v[i] = r.nextInt(distinct) - 3;
            for (int k = r.nextInt(4); k > 0 && n > 0; k--) v[r.nextInt(n)] = specials[r.nextInt(specials.length)];
            if (n > 0 && trial % 11 == 0) v[0] = Float.NaN;
            assertEquals(scalarArgmax(v), Sampler.argmax(v), "trial " + trial + ", length " + n);
        }
        float[] tail = new float[8195];
        tail[8194] = 1f; // only in the scalar tail after the vectors
        assertEquals(8194, Sampler.argmax(tail));
        tail[4099] = 1f; // and now also inside a vector, earlier
        assertEquals(4099, Sampler.argmax(tail));
        assertEquals(0, Sampler.argmax(new float[0]));
        assertEquals(0, Sampler.argmax(new float[] {-0f, 0f, -0f}), "0.0 is not greater than -0.0");
        assertEquals(9, Sampler.argmax(new float[] {0, Float.NaN, 1, 2, 3, 4, 5, 6, 7, 9}), "a NaN is skipped");
        assertEquals(0, Sampler.argmax(new float[] {Float.NaN, 1, 2, 3, 4, 5, 6, 7, 8, 9}), "nothing is greater than a first NaN");
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        SamplingParams a = new SamplingParams(1f, 0, 1f, 0f, 1f, 1234);
        assertArrayEquals(run(a, 200), run(a, 200));
        SamplingParams b = new SamplingParams(1f, 0, 1f, 0f, 1f, 999);
        assertThat(run(a, 200)).isNotEqualTo(run(b, 200));
    }

    @Test
    void topKKeepsOnlyTheKBest() {
        float[] base = logits(5, 1000);
        int[] order = java.util.stream.IntStream.range(0, 1000).boxed()
                .sorted((x, y) -> Float.compare(base[y], base[x])).mapToInt(Integer::intValue).toArray();
        Set<Integer> allowed = Set.of(order[0], order[1], order[2]);
        Sampler s = new Sampler(new SamplingParams(5f, 3, 1f, 0f, 1f, 1));
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) seen.add(s.sample(base.clone(), null, 0));
        assertThat(allowed).containsAll(seen);
        assertEquals(3, seen.size());
    }

    @Test
    void topPKeepsTheNucleus() {
        // probabilities ∝ exp(l): 0.5, 0.3, 0.15, 0.05 → top-p 0.7 keeps the first two
        float[] l = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        Sampler s = new Sampler(new SamplingParams(1f, 0, 0.7f, 0f, 1f, 3));
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) counts[s.sample(l.clone(), null, 0)]++;
        assertEquals(0, counts[2] + counts[3]);
        assertThat(counts[0] / 4000.0).isBetween(0.57, 0.68); // 0.5/0.8 = 0.625
    }

    @Test
    void minPDropsUnlikelyTokens() {
        float[] l = {(float) Math.log(0.6), (float) Math.log(0.3), (float) Math.log(0.1)};
        Sampler s = new Sampler(new SamplingParams(1f, 0, 1f, 0.4f, 1f, 3)); // keeps p >= 0.4 * 0.6 = 0.24
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) seen.add(s.sample(l.clone(), null, 0));
        assertEquals(Set.of(0, 1), seen);
    }

    @Test
    void tinyProbabilitiesStillReachTheNucleus() {
        float[] flat = new float[50_000]; // uniform: no token is above the first threshold's mass
        Sampler s = new Sampler(new SamplingParams(1f, 0, 0.99f, 0f, 1f, 8));
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) seen.add(s.sample(flat.clone(), null, 0));
        assertThat(seen.size()).isGreaterThan(1900);
    }

    @Test
    void repetitionPenaltyDemotesSeenTokens() {
        float[] l = {2f, 1.9f, -1f};
        int[] history = {0, 0, 2};
        assertEquals(1, new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1.5f, 0)).sample(l, history, 3));
        assertEquals(2f / 1.5f, l[0], 1e-6); // applied once although 0 occurs twice
        assertEquals(-1.5f, l[2], 1e-6);
    }

    @Test
    void invalidParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1f, 0, 1f, 0f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(Float.NaN, 0, 1f, 0f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, -2, 1f, 0f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 0f, 0f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1.5f, 0f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1f, 1f, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1f, 0f, 0f, 0));
    }

    /**
     * The softmax's sum keeps one order whether interpreted or compiled (see
     * ActivationsVectorTest#sumOfSquaresKeepsItsOrderWhenCompiled): a restarted service replaying a
     * turn samples from the same total as a warm one.
     */
    @Test
    void softmaxSumKeepsItsOrderWhenCompiled() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(17);
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length(), half = lanes / 2;
        for (int round = 0; round < 200_000; round++) { // enough calls for C2 to compile it
            int n = 2 * lanes + round % lanes;
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (random.nextDouble() * Math.pow(10, random.nextInt(9)));
            double[] acc = new double[lanes];
            int bound = n - n % lanes;
            for (int i = 0; i < bound; i++) acc[i % lanes] += x[i];
            double want = acc[0] + acc[half];
            for (int j = 1; j < half; j++) want += acc[j] + acc[j + half];
            for (int i = bound; i < n; i++) want += x[i];
            double got = Sampler.sum(x, n);
            if (got != want) org.junit.jupiter.api.Assertions.fail("round " + round + ": " + got + " != " + want);
        }
    }
}
