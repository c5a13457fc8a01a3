package io.ternstream.benchmarks;

import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Compares engine builds side by side in one JVM: each jar is loaded in its own class loader, and bursts
 * of batched steps alternate between them until the time is up. The speed-up reported is the median over
 * adjacent pairs of bursts, so the drift of a shared machine (±20% over minutes on 2 shared cores) cancels
 * out; run it with the jars in both orders, since the second one measured about 3% slower when both were
 * the same.
 *
 * <pre>java --add-modules=jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     io.ternstream.benchmarks.EngineJarAB MODEL_DIR BATCH SECONDS engine-a.jar engine-b.jar [...]</pre>
 *
 * Reflection only: the jars may differ in anything but {@code ModelLoader.load}, the {@code Engine}
 * constructor and {@code stepBatch}. One engine thread ({@code -Dthreads=N} for more).
 */
public final class EngineJarAB {
    /** One jar's engine, ready to step its batch. */
    private record Build(String name, Object engine, Method stepBatch, Object states, int[] tokens, float[][] logits) {
        /** One step, in milliseconds. */
        double step() throws ReflectiveOperationException {
            long t0 = System.nanoTime();
            stepBatch.invoke(engine, states, tokens, logits);
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: EngineJarAB MODEL_DIR BATCH SECONDS JAR JAR [JAR...]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        int batch = Integer.parseInt(args[1]);
        long seconds = Long.parseLong(args[2]);
        int threads = Integer.getInteger("threads", 1);
        List<Build> builds = new ArrayList<>();
        for (int i = 3; i < args.length; i++) builds.add(load(Path.of(args[i]), model, batch, threads));
        PairedBursts.compare(builds.stream().map(Build::name).toList(),
                builds.stream().<PairedBursts.Run>map(b -> b::step).toList(), 30, seconds, "steps", "%.3f", "ms");
    }

    private static Build load(Path jar, Path model, int batch, int threads) throws Exception {
        var loader = EngineJarLoader.of(jar);
        Object loaded = loader.loadClass("io.ternstream.engine.model.ModelLoader").getMethod("load", Path.class).invoke(null, model);
        Class<?> optionsClass = loader.loadClass("io.ternstream.engine.EngineOptions");
        Object options = optionsClass.getConstructor(int.class, int.class).newInstance(threads, Math.max(batch, 1));
        Class<?> engineClass = loader.loadClass("io.ternstream.engine.Engine");
        Class<?> tokenizerClass = loader.loadClass("io.ternstream.engine.tokenizer.TextTokenizer");
        Object engine = engineClass.getConstructor(loaded.getClass(), tokenizerClass, optionsClass).newInstance(loaded, null, options);
        Class<?> stateClass = loader.loadClass("io.ternstream.engine.state.SessionState");
        Object states = Array.newInstance(stateClass, batch);
        int[] tokens = new int[batch];
        for (int b = 0; b < batch; b++) {
            Array.set(states, b, engineClass.getMethod("newState").invoke(engine));
            tokens[b] = 5 + b;
        }
        Object config = engineClass.getMethod("config").invoke(engine);
        int vocab = (int) config.getClass().getMethod("vocabSize").invoke(config);
        Method stepBatch = engineClass.getMethod("stepBatch", states.getClass(), int[].class, float[][].class);
        return new Build(jar.getFileName().toString(), engine, stepBatch, states, tokens, new float[batch][vocab]);
    }
}
