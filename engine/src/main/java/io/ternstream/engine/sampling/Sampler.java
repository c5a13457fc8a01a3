package io.ternstream.engine.sampling;

import io.ternstream.engine.model.Activations;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses next tokens from logits: repetition penalty, then greedy or temperature sampling filtered
 * by top-k, top-p and min-p. A sampler owns its seeded RNG (same seed, same tokens) and its scratch
 * buffers; it never sorts the whole vocabulary — candidates above a probability threshold are sorted,
 * and the threshold is lowered only while they hold too little mass for top-p.
 */
public final class Sampler {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** As many floats as {@link #D} has doubles. */
    private static final VectorSpecies<Float> F_HALF = VectorSpecies.of(float.class, VectorShape.forBitSize(F.vectorBitSize() / 2));

    private final SamplingParams params;
    private final SplittableRandom random;
    private float[] probs = new float[0];
    private long[] keys = new long[0];
    private int[] seenStamp = new int[0];
    private int stamp;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Picks a token. {@code history[0, historyLen)} are the tokens the repetition penalty applies to.
     * {@code logits} is modified (penalty, temperature).
     */
    public int sample(float[] logits, int[] history, int historyLen) {
        int v = logits.length;
        if (params.repetitionPenalty() != 1f && history != null) applyPenalty(logits, history, historyLen);
        if (params.isGreedy()) return argmax(logits);

        if (probs.length < v) {
            probs = new float[v];
            keys = new long[v];
        }
        float max = max(logits, v);
        // p = e^((l − max)/T) = e^−((max − l)/T), through the engine's vector exp: a scalar Math.exp per
        // logit was most of a sampled token's cost, which at 32 sessions is paid 32 times per step
        float invT = 1f / params.temperature();
        scaledGaps(logits, max, invT, probs, v);
        Activations.expNeg(probs, 0, probs, 0, 0, v);
        double sum = sum(probs, v);
        // probs are relative to the top token (which has 1), so min-p is a plain threshold on them
        float floor = params.minP();
        int limitK = params.topK() > 0 ? params.topK() : v;
        double needMass = params.topP() * sum;
        // Candidates above a threshold are a prefix of the tokens sorted by probability; they suffice
        // once they hold the top-p mass, or top-k tokens, or the threshold has reached the min-p floor.
        float threshold = Math.max(floor, 1e-3f);
        int n;
        while (true) {
            n = 0;
            // eight probabilities are compared at once and only a vector holding a candidate is read one by
            // one: candidates are few, and a branch per token was most of the scan's cost
            int i = 0;
            for (int bound = F.loopBound(v); i < bound; i += F.length()) {
                if (FloatVector.fromArray(F, probs, i).compare(VectorOperators.GE, threshold).anyTrue()) {
                    n = collect(i, i + F.length(), threshold, n);
                }
            }
            n = collect(i, v, threshold, n);
            double mass = 0; // in token order, as the candidates were found
            for (int j = 0; j < n; j++) mass += probs[idOf(keys[j])];
            if (threshold <= floor || n >= limitK || mass >= needMass) break;
            threshold = threshold < 1e-30f ? floor : Math.max(floor, threshold / 1000f);
        }
        Arrays.sort(keys, 0, n); // ascending key = descending probability, ties by lower id
        int keep = Math.min(n, limitK);
        double cumulative = 0;
        int cut = keep;
        for (int j = 0; j < keep; j++) {
            cumulative += probs[idOf(keys[j])];
            if (cumulative >= needMass) {
                cut = j + 1;
                break;
            }
        }
        double total = 0;
        for (int j = 0; j < cut; j++) total += probs[idOf(keys[j])];
        double r = random.nextDouble() * total;
        for (int j = 0; j < cut; j++) {
            r -= probs[idOf(keys[j])];
            if (r < 0) return idOf(keys[j]);
        }
        return idOf(keys[cut - 1]);
    }

    /** Appends the tokens in [from, to) whose probability reaches the threshold to keys[n..]; the new n. */
    private int collect(int from, int to, float threshold, int n) {
        for (int k = from; k < to; k++) {
            if (probs[k] >= threshold && probs[k] > 0) keys[n++] = sortKey(probs[k], k);
        }
        return n;
    }

    private static float max(float[] x, int n) {
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) m = m.max(FloatVector.fromArray(F, x, i));
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[i]);
        return max;
    }

    /** out[i] = (max − x[i]) · invT, the same float as −((x[i] − max) · invT). */
    private static void scaledGaps(float[] x, float max, float invT, float[] out, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.broadcast(F, max).sub(FloatVector.fromArray(F, x, i)).mul(invT).intoArray(out, i);
        }
        for (; i < n; i++) out[i] = (max - x[i]) * invT;
    }

    /**
     * Σ x[0, n) in double, a vector of partial sums at a time, their lanes added in a fixed order (not
     * reduceLanes: see Activations.sumOfSquares).
     */
    static double sum(float[] x, int n) {
        DoubleVector a = DoubleVector.zero(D), b = a;
        int i = 0;
        // each half loaded as its own half-width vector: widening a high part compiles to a slow sequence
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            a = a.add(FloatVector.fromArray(F_HALF, x, i).convertShape(VectorOperators.F2D, D, 0));
            b = b.add(FloatVector.fromArray(F_HALF, x, i + F_HALF.length()).convertShape(VectorOperators.F2D, D, 0));
        }
        DoubleVector ab = a.add(b);
        double sum = ab.lane(0);
        for (int j = 1; j < D.length(); j++) sum += ab.lane(j);
        for (; i < n; i++) sum += x[i];
        return sum;
    }

    /**
     * The first index of the largest logit: the index a scalar scan keeping the first strictly greater
     * value returns, NaNs never greater (a NaN at index 0 is returned, as that scan would). Two vector
     * passes, the maximum then its first position: about 8192 compare-and-branch steps per token were
     * 1.8% of a 32-session greedy step.
     */
    public static int argmax(float[] logits) {
        int n = logits.length;
        if (n == 0 || Float.isNaN(logits[0])) return 0;
        float best = logits[0];
        int i = 0;
        int bound = F.loopBound(n);
        if (bound > 0) {
            // lane-wise running maxima by "greater than", so a NaN never replaces a value
            FloatVector m = FloatVector.broadcast(F, best);
            for (; i < bound; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, logits, i);
                m = m.blend(v, v.compare(VectorOperators.GT, m));
            }
            for (int k = 0; k < F.length(); k++) if (m.lane(k) > best) best = m.lane(k);
        }
        for (; i < n; i++) if (logits[i] > best) best = logits[i];
        // best is not NaN, and the first value equal to it (0.0 == -0.0) is the scan's answer
        i = 0;
        for (; i < bound; i += F.length()) {
            VectorMask<Float> at = FloatVector.fromArray(F, logits, i).compare(VectorOperators.EQ, best);
            if (at.anyTrue()) return i + at.firstTrue();
        }
        for (; i < n; i++) if (logits[i] == best) return i;
        throw new AssertionError("the maximum is an element");
    }

    /** CTRL-style penalty: divide positive logits and multiply negative ones, once per distinct token. */
    private void applyPenalty(float[] logits, int[] history, int len) {
        if (seenStamp.length < logits.length) seenStamp = new int[logits.length];
        if (++stamp == 0) {
            java.util.Arrays.fill(seenStamp, 0);
            stamp = 1;
        }
        float p = params.repetitionPenalty();
        for (int k = Math.max(0, len - 1024); k < len; k++) { // bounded window: constant cost per token
            int t = history[k];
            if (t < 0 || t >= logits.length || seenStamp[t] == stamp) continue;
            seenStamp[t] = stamp;
            logits[t] = logits[t] > 0 ? logits[t] / p : logits[t] * p;
        }
    }

    private static long sortKey(float prob, int id) {
        // probabilities are positive, so their bit patterns order like the values; invert for descending
        return ((long) (Integer.MAX_VALUE - Float.floatToIntBits(prob)) << 32) | id;
    }

    private static int idOf(long key) {
        return (int) key;
    }
}
