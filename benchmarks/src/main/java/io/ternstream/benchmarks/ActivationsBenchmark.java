package io.ternstream.benchmarks;

import io.ternstream.engine.model.Activations;
import io.ternstream.engine.tensor.ActivationBatch;
import io.ternstream.engine.tensor.TernaryKernel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/** The serial work before each product: fused RMSNorm + absmax quantization, and the LUT tables. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ActivationsBenchmark {

    @Param({"1024", "2816"})
    public int n;

    private float[] x, w, scratch;
    private short[] codes;
    private ActivationBatch lut;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(1);
        x = new float[n];
        w = new float[n];
        scratch = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
            w[i] = 0.5f + random.nextFloat();
        }
        codes = new short[n + 64];
        lut = new ActivationBatch(TernaryKernel.byName("lut"), 1, n);
    }

    @Benchmark
    public float quantizeNormed() {
        return Activations.quantizeNormed(x, w, n, codes, scratch);
    }

    @Benchmark
    public ActivationBatch quantizeAndBuildTables() {
        lut.begin(n);
        lut.commit(0, Activations.quantizeNormed(x, w, n, lut.codes(0), scratch));
        return lut;
    }
}
