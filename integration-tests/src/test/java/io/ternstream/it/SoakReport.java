package io.ternstream.it;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The soak's figures, per fault kind: the turns that overlap a fault of that kind (in flight at some
 * moment of its window, from the fault until its effect is over: the victim noticed gone by the group,
 * the broker serving again, the stall or pause over), their p50 and p99 latency (prompt sent to
 * answer seen) against the turns of the fault-free baseline before the first fault, turns lost,
 * repeated events read, and the engines' memory before the fault and before the next one.
 */
final class SoakReport {
    /** What the run was. */
    record Setup(String delivery, int engines, int sessions, int gatewaySessions, int partitions, double intervalSeconds,
                 double minutes, int failedStarts) {}

    /** The end checks besides the verdict: partitions owned, probe answers. */
    record Ending(int partitionsAssigned, int partitions, int probesAnswered, int probes, double slowestProbeSeconds,
                  double probeBoundSeconds) {}

    private static final int SLOWEST_SHOWN = 5;

    private SoakReport() {}

    static String render(Setup setup, SoakVerdict verdict, Ending ending, List<FaultInjector.Fault> faults,
                         TurnLedger ledger, long baselineFrom, long trafficEnd, InstanceMemory memory,
                         List<InstanceMemory.Growth> growth, double growthTolerance) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Fault soak, %s: %d engines and 1 gateway as separate JVMs, a KRaft broker "
                        + "as a child JVM, %d sessions (%d through the gateway's WebSocket), %d partitions; %d faults, one "
                        + "every %.0f s or half an interval after the previous one ended, over %.1f min; engine starts that "
                        + "failed and were retried: %d%n", setup.delivery(), setup.engines(), setup.sessions(),
                setup.gatewaySessions(), setup.partitions(), faults.size(), setup.intervalSeconds(), setup.minutes(),
                setup.failedStarts()));
        out.append(String.format(Locale.ROOT, "turns: %d accepted, %d answered, %d lost, %d answered with an error, %d sent "
                        + "again by the client; repeated events read: %d (%d of prompts sent once), %d differing; events "
                        + "broken: %d; turns differing from a fault-free replay: %d; session states differing: %d of %d; "
                        + "events of no turn of the soak: %d%n",
                verdict.turns, verdict.turns - verdict.lost, verdict.lost, verdict.failed, verdict.resent, verdict.duplicates,
                verdict.duplicatesOfSingleSends, verdict.differingRepeats, verdict.broken, verdict.tokenMismatches,
                verdict.stateMismatches, verdict.sessions, ledger.unknownEvents()));
        out.append(String.format(Locale.ROOT, "end: %d of %d partitions assigned; probes answered %d of %d, slowest %.1f s "
                        + "(bound %.0f s)%n", ending.partitionsAssigned(), ending.partitions(), ending.probesAnswered(),
                ending.probes(), ending.slowestProbeSeconds(), ending.probeBoundSeconds()));
        faultTable(out, faults, ledger, baselineFrom, trafficEnd, memory);
        memoryTable(out, memory, growth, growthTolerance);
        faultList(out, faults, baselineFrom);
        slowest(out, ledger, baselineFrom);
        if (!verdict.details.isEmpty()) {
            out.append("\nproblems (first ").append(verdict.details.size()).append("):\n");
            verdict.details.forEach(d -> out.append("  ").append(d).append('\n'));
        }
        return out.toString();
    }

    private static void faultTable(StringBuilder out, List<FaultInjector.Fault> faults, TurnLedger ledger, long baselineFrom,
                                   long trafficEnd, InstanceMemory memory) {
        long faultsStart = faults.isEmpty() ? trafficEnd : faults.getFirst().startNanos();
        double[] baseline = latencies(ledger.all().stream()
                .filter(e -> e.answered() && e.sentNanos >= baselineFrom && e.answeredNanos < faultsStart).toList());
        double baselineP99 = percentile(baseline, 0.99);
        out.append(String.format(Locale.ROOT, "baseline without faults: %d turns, p50 %.0f ms, p99 %.0f ms%n%n",
                baseline.length, percentile(baseline, 0.5), baselineP99));

        out.append("| fault | count | turns overlapping it | p50 ms | p99 ms | extra p99 ms | lost | repeated events "
                + "| engines' RSS before -> before the next fault, MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (FaultKind kind : FaultKind.values()) {
            List<FaultInjector.Fault> ofKind = faults.stream().filter(f -> f.kind() == kind).toList();
            List<TurnLedger.Entry> overlapping = ledger.all().stream()
                    .filter(e -> ofKind.stream().anyMatch(f -> overlaps(e, f))).toList();
            double[] lat = latencies(overlapping);
            double p99 = percentile(lat, 0.99);
            double rssBefore = 0;
            double rssAfter = 0;
            for (FaultInjector.Fault f : ofKind) {
                int i = faults.indexOf(f);
                long next = i + 1 < faults.size() ? faults.get(i + 1).startNanos() : trafficEnd;
                rssBefore += memory.totalAt("e", f.startNanos() - 1);
                rssAfter += memory.totalAt("e", next - 1);
            }
            out.append(String.format(Locale.ROOT, "| %s | %d | %d | %.0f | %.0f | %+.0f | %d | %d | %.0f -> %.0f |%n",
                    kind.description, ofKind.size(), overlapping.size(), percentile(lat, 0.5), p99, p99 - baselineP99,
                    overlapping.stream().filter(e -> !e.answered()).count(),
                    overlapping.stream().mapToInt(SoakReport::repeats).sum(),
                    ofKind.isEmpty() ? 0 : rssBefore / ofKind.size(), ofKind.isEmpty() ? 0 : rssAfter / ofKind.size()));
        }
    }

    private static void memoryTable(StringBuilder out, InstanceMemory memory, List<InstanceMemory.Growth> growth,
                                    double growthTolerance) {
        out.append(String.format(Locale.ROOT, "%nresident memory of the instances that lived through the run after "
                + "warm-up (tolerance: %.0f%% growth)%n| instance | after warm-up, MiB | end, MiB | growth |%n|---|---:|---:|---:|%n",
                growthTolerance * 100));
        for (InstanceMemory.Growth g : growth) {
            out.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %+.0f MiB (%+.1f%%) |%n", g.name(), g.fromMib(),
                    g.toMib(), g.mib(), g.fraction() * 100));
        }
        out.append(String.format(Locale.ROOT, "%nevery instance (resident MiB at its first and last sample, CPU cores "
                + "used on average):%n"));
        for (InstanceMemory.Life life : memory.lives()) {
            out.append(String.format(Locale.ROOT, "  %s: %.0f -> %.0f MiB over %.0f s, %.2f cores%n", life.name,
                    life.samples.isEmpty() ? Double.NaN : life.samples.getFirst().mib(), life.last(),
                    ((life.endNanos == 0 ? System.nanoTime() : life.endNanos) - life.startNanos) / 1e9, life.cores()));
        }
    }

    private static void faultList(StringBuilder out, List<FaultInjector.Fault> faults, long baselineFrom) {
        out.append("\nfaults (seconds after the baseline began, clock time, window):\n");
        long wallOffset = System.currentTimeMillis() - System.nanoTime() / 1_000_000;
        for (FaultInjector.Fault f : faults) {
            out.append(String.format(Locale.ROOT, "  %3d at %6.1f s (%tT): %s (%s), %.1f s%n", f.number(),
                    (f.startNanos() - baselineFrom) / 1e9, wallOffset + f.startNanos() / 1_000_000, f.kind().description,
                    f.target(), (f.endNanos() - f.startNanos()) / 1e9));
        }
    }

    /** The slowest turns, to look them up in the instances' logs. */
    private static void slowest(StringBuilder out, TurnLedger ledger, long baselineFrom) {
        out.append("\nslowest turns (sent, seconds after the baseline began; latency):\n");
        long wallOffset = System.currentTimeMillis() - System.nanoTime() / 1_000_000;
        ledger.all().stream().filter(TurnLedger.Entry::answered)
                .sorted(java.util.Comparator.comparingLong(TurnLedger.Entry::latencyNanos).reversed()).limit(SLOWEST_SHOWN)
                .forEach(e -> out.append(String.format(Locale.ROOT, "  %s (%s): sent at %.1f s (%tT), %.1f s%n",
                        e.turn.requestId(), e.turn.viaGateway() ? "gateway" : "kafka", (e.sentNanos - baselineFrom) / 1e9,
                        wallOffset + e.sentNanos / 1_000_000, e.latencyNanos() / 1e9)));
    }

    /** In flight at some moment of the fault's window (never answered: in flight ever since it was sent). */
    private static boolean overlaps(TurnLedger.Entry e, FaultInjector.Fault f) {
        return e.sentNanos <= f.endNanos() && (!e.answered() || e.answeredNanos >= f.startNanos());
    }

    /** Latencies in ms of the answered turns. */
    private static double[] latencies(List<TurnLedger.Entry> entries) {
        return entries.stream().filter(TurnLedger.Entry::answered).mapToDouble(e -> e.latencyNanos() / 1e6).toArray();
    }

    /** Events of a turn read more than once. */
    private static int repeats(TurnLedger.Entry e) {
        return e.arrivals().size() - (int) e.arrivals().stream().mapToInt(a -> a.event().seq()).distinct().count();
    }

    static double percentile(double[] values, double q) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
    }
}
