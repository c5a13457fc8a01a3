package io.ternstream.benchmarks;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@link EngineJarAB} for one kernel's products alone: each engine jar in its own class loader multiplies
 * the same random matrices (by default one layer of the bundled model and its head) at one batch size,
 * and bursts alternate between the jars until the time is up. The speed-up is the median over adjacent
 * pairs of bursts. Smaller noise than whole steps, but it measures the products only, and a change that
 * moves the JIT's decisions for the whole step can show differently here (docs/PERFORMANCE.md, "What is
 * measured and how").
 *
 * <pre>java --add-modules=jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     io.ternstream.benchmarks.KernelJarAB BATCH SECONDS engine-a.jar engine-b.jar [...]</pre>
 *
 * {@code -Dkernel=NAME} (default column-lut), {@code -Dshapes=ROWSxCOLS,...} (default
 * 384x384 four times, 2048x384, 384x1024, 8192x384). Reflection only: the jars may differ in anything but
 * {@code TernaryKernel.byName}, {@code multiply}, {@code TernaryMatrix.fromCodes} and {@code ActivationBatch}.
 */
public final class KernelJarAB {
    /** One jar's kernel with its own copies of the matrices and of one activation batch per input width. */
    private record Build(String name, Object kernel, Method multiply, Object[] matrices, int[] rows, Object[] inputs,
                         int batch, float[][] out) {
        /** Every product once, in microseconds. */
        double products() throws ReflectiveOperationException {
            long t0 = System.nanoTime();
            for (int k = 0; k < matrices.length; k++) multiply.invoke(kernel, matrices[k], inputs[k], batch, out, 0, 0, rows[k]);
            return (System.nanoTime() - t0) / 1e3;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: KernelJarAB BATCH SECONDS JAR JAR [JAR...]");
            System.exit(2);
        }
        int batch = Integer.parseInt(args[0]);
        long seconds = Long.parseLong(args[1]);
        int[][] shapes = parseShapes(System.getProperty("shapes", "384x384,384x384,384x384,384x384,2048x384,384x1024,8192x384"));
        String kernel = System.getProperty("kernel", "column-lut");
        List<Build> builds = new ArrayList<>();
        for (int i = 2; i < args.length; i++) builds.add(load(Path.of(args[i]), kernel, shapes, batch));
        PairedBursts.compare(builds.stream().map(Build::name).toList(),
                builds.stream().<PairedBursts.Run>map(b -> b::products).toList(), 20, seconds, "runs", "%.1f", "us");
    }

    static int[][] parseShapes(String list) {
        String[] parts = list.split(",");
        int[][] shapes = new int[parts.length][];
        for (int i = 0; i < parts.length; i++) {
            String[] d = parts[i].trim().split("x");
            if (d.length != 2) throw new IllegalArgumentException("shape must be ROWSxCOLS, got '" + parts[i] + "'");
            shapes[i] = new int[] {Integer.parseInt(d[0]), Integer.parseInt(d[1])};
        }
        return shapes;
    }

    private static Build load(Path jar, String kernelName, int[][] shapes, int batch) throws Exception {
        var loader = EngineJarLoader.of(jar);
        Class<?> kernelClass = loader.loadClass("io.ternstream.engine.tensor.TernaryKernel");
        Class<?> matrixClass = loader.loadClass("io.ternstream.engine.tensor.TernaryMatrix");
        Class<?> layoutClass = loader.loadClass("io.ternstream.engine.tensor.TernaryMatrix$Layout");
        Class<?> batchClass = loader.loadClass("io.ternstream.engine.tensor.ActivationBatch");
        Object kernel = kernelClass.getMethod("byName", String.class).invoke(null, kernelName);
        Object layout = kernelClass.getMethod("layout").invoke(kernel);
        Method fromCodes = matrixClass.getMethod("fromCodes", int.class, int.class, byte[].class, float.class, layoutClass);
        SplittableRandom random = new SplittableRandom(1); // the same matrices and codes for every jar
        Object[] matrices = new Object[shapes.length];
        int[] rows = new int[shapes.length];
        Object[] inputs = new Object[shapes.length];
        Map<Integer, Object> inputByWidth = new HashMap<>();
        int widest = 0;
        for (int s = 0; s < shapes.length; s++) {
            byte[] codes = new byte[shapes[s][0] * shapes[s][1]];
            for (int j = 0; j < codes.length; j++) codes[j] = (byte) (random.nextInt(3) - 1);
            matrices[s] = fromCodes.invoke(null, shapes[s][0], shapes[s][1], codes, 0.01f, layout);
            rows[s] = shapes[s][0];
            widest = Math.max(widest, shapes[s][0]);
        }
        for (int s = 0; s < shapes.length; s++) {
            int cols = shapes[s][1];
            Object in = inputByWidth.get(cols);
            if (in == null) {
                in = batchClass.getConstructor(kernelClass, int.class, int.class).newInstance(kernel, batch, cols);
                batchClass.getMethod("begin", int.class).invoke(in, cols);
                for (int b = 0; b < batch; b++) {
                    short[] q = (short[]) batchClass.getMethod("codes", int.class).invoke(in, b);
                    for (int j = 0; j < cols; j++) q[j] = (short) (random.nextInt(255) - 127);
                    batchClass.getMethod("commit", int.class, float.class).invoke(in, b, 1f / 127);
                }
                inputByWidth.put(cols, in);
            }
            inputs[s] = in;
        }
        Method multiply = kernelClass.getMethod("multiply", matrixClass, batchClass, int.class, float[][].class, int.class, int.class, int.class);
        return new Build(jar.getFileName().toString(), kernel, multiply, matrices, rows, inputs, batch, new float[batch][widest]);
    }
}
