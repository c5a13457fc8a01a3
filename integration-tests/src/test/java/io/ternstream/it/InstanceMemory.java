package io.ternstream.it;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Resident memory and CPU time of every process of a test over its life, sampled at a fixed pace. */
final class InstanceMemory implements AutoCloseable {
    record Sample(long nanos, double mib, double cpuSeconds) {}

    /** One process from start to end. */
    static final class Life {
        final String name;
        final ProcStat process;
        final long startNanos = System.nanoTime();
        volatile long endNanos;
        final List<Sample> samples = new CopyOnWriteArrayList<>();

        private Life(String name, ProcStat process) {
            this.name = name;
            this.process = process;
        }

        boolean liveAt(long nanos) {
            return startNanos <= nanos && (endNanos == 0 || endNanos > nanos);
        }

        /** The last sample at or before {@code nanos}, or NaN. */
        double at(long nanos) {
            double mib = Double.NaN;
            for (Sample s : samples) {
                if (s.nanos() > nanos) {
                    break;
                }
                mib = s.mib();
            }
            return mib;
        }

        double last() {
            return samples.isEmpty() ? Double.NaN : samples.getLast().mib();
        }

        /** Cores used on average between the first and the last sample. */
        double cores() {
            if (samples.size() < 2) {
                return Double.NaN;
            }
            Sample first = samples.getFirst();
            Sample last = samples.getLast();
            return (last.cpuSeconds() - first.cpuSeconds()) / ((last.nanos() - first.nanos()) / 1e9);
        }
    }

    private final List<Life> lives = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("rss-sampler").unstarted(r));

    InstanceMemory(Duration every) {
        sampler.scheduleAtFixedRate(this::sample, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    void track(String name, long pid) {
        lives.add(new Life(name, new ProcStat(pid)));
    }

    void ended(long pid) {
        for (Life life : lives) {
            if (life.process.pid() == pid && life.endNanos == 0) {
                life.endNanos = System.nanoTime();
            }
        }
    }

    private void sample() {
        long now = System.nanoTime();
        for (Life life : lives) {
            if (life.endNanos != 0) {
                continue;
            }
            try {
                life.samples.add(new Sample(now, life.process.residentMib(), life.process.cpuSeconds()));
            } catch (IOException | RuntimeException e) {
                life.endNanos = now; // gone
            }
        }
    }

    List<Life> lives() {
        return new ArrayList<>(lives);
    }

    /** How much a process that lived from {@code from} to {@code to} grew in between. */
    record Growth(String name, double fromMib, double toMib) {
        double mib() {
            return toMib - fromMib;
        }

        double fraction() {
            return mib() / fromMib;
        }
    }

    /** Growth of every process whose name starts with one of {@code prefixes} and that lived over the whole of [from, to]. */
    List<Growth> growth(List<String> prefixes, long from, long to) {
        return lives.stream()
                .filter(l -> prefixes.stream().anyMatch(l.name::startsWith))
                .filter(l -> l.liveAt(from) && l.liveAt(to) && !Double.isNaN(l.at(from)))
                .map(l -> new Growth(l.name, l.at(from), l.at(to)))
                .toList();
    }

    /** Resident MiB summed over the processes whose name starts with {@code prefix} alive at {@code nanos}. */
    double totalAt(String prefix, long nanos) {
        return lives.stream()
                .filter(l -> l.name.startsWith(prefix) && l.liveAt(nanos))
                .mapToDouble(l -> l.at(nanos))
                .filter(d -> !Double.isNaN(d))
                .sum();
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
