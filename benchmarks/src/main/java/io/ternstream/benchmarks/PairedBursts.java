package io.ternstream.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The comparison method of {@link EngineJarAB} and {@link KernelJarAB}: bursts of timed runs alternate
 * between the builds until the time is up, and a build's speed-up over the first is the median, over
 * the rounds, of the ratio of their burst medians. Adjacent bursts see the same state of a shared
 * machine, so its drift (±20% over minutes on 2 shared cores) cancels out.
 */
final class PairedBursts {
    private static final int RUNS_PER_BURST = 10;

    /** One timed run of a build; returns its duration in the report's unit. */
    @FunctionalInterface
    interface Run {
        double time() throws ReflectiveOperationException;
    }

    private PairedBursts() {}

    /**
     * Warms every build up with {@code warmupBursts} bursts, alternates bursts for {@code seconds}, then
     * prints one line per build: run count ({@code what}), fastest, p10 and p50 run ({@code number}
     * format, {@code unit}) and the speed against the first build.
     */
    static void compare(List<String> names, List<Run> runs, int warmupBursts, long seconds, String what, String number,
                        String unit) throws ReflectiveOperationException {
        List<List<Double>> times = new ArrayList<>();
        for (Run run : runs) {
            List<Double> t = new ArrayList<>();
            times.add(t);
            for (int k = 0; k < warmupBursts; k++) burst(run, new ArrayList<>()); // JIT warm-up of every build
        }
        List<double[]> rounds = new ArrayList<>();
        for (long end = System.nanoTime() + seconds * 1_000_000_000L; System.nanoTime() < end; ) {
            double[] medians = new double[runs.size()];
            for (int i = 0; i < runs.size(); i++) medians[i] = burst(runs.get(i), times.get(i));
            rounds.add(medians);
        }
        String line = "%-24s " + what + " %6d  min " + number + "  p10 " + number + "  p50 " + number + " " + unit
                + "  speed vs the first: median %.3f (IQR %.3f-%.3f)%n";
        for (int i = 0; i < runs.size(); i++) {
            double[] t = times.get(i).stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int index = i;
            double[] speedUp = rounds.stream().mapToDouble(p -> p[0] / p[index]).sorted().toArray();
            System.out.printf(line, names.get(i), t.length, t[0], t[t.length / 10], t[t.length / 2],
                    speedUp[speedUp.length / 2], speedUp[speedUp.length / 4], speedUp[3 * speedUp.length / 4]);
        }
    }

    /** The median of one burst's runs; every run's time is also recorded. */
    private static double burst(Run run, List<Double> times) throws ReflectiveOperationException {
        double[] t = new double[RUNS_PER_BURST];
        for (int k = 0; k < t.length; k++) {
            t[k] = run.time();
            times.add(t[k]);
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
