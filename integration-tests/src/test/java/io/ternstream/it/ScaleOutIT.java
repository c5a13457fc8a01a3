package io.ternstream.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Scaling out and in under load, as KEDA does it on Kubernetes: up to three service processes in one
 * consumer group on a 6-partition prompts topic. Conversations run back to back (each session sends its
 * next turn as soon as the previous one completes) while a second and a third process join and the
 * first one leaves with a graceful stop. Every prompt must get exactly one complete answer after
 * dropping duplicates by (requestId, seq); the stall each rebalance adds to running streams is measured
 * against the steady state before it and reported (target/scale-out/report.txt, docs/DEPLOY.md).
 */
class ScaleOutIT {
    private static final int PARTITIONS = 6;
    private static final int SESSIONS = 18;
    private static final int MAX_TOKENS = 24;
    /** Turns completed before the first step (two per session: warm JIT, a steady window). */
    private static final int TURNS_BEFORE_STEPS = 2 * SESSIONS;

    /** One prompt sent by the load driver. */
    record Sent(String session, String requestId, long nanos) {}

    /**
     * A scaling step: the action (start or SIGTERM of a process), the first change of any running
     * process's partitions (the group began rebalancing), and the settled assignment.
     */
    record Step(String name, long actionNanos, long rebalanceNanos, long settledNanos) {}

    /** The time between two consecutive moments of one request: send, each event, completion. */
    record Gap(String requestId, long fromNanos, long toNanos) {
        long millis() {
            return (toNanos - fromNanos) / 1_000_000;
        }

        boolean overlaps(long from, long to) {
            return fromNanos < to && toNanos > from;
        }
    }

    @Test
    void scalingOutAndInUnderLoadAnswersEveryPromptExactlyOnce() throws Exception {
        Broker.Topics topics = Broker.Topics.create("scale-it", PARTITIONS);
        List<ServiceProcess> processes = new ArrayList<>();
        ScheduledExecutorService driver = Executors.newSingleThreadScheduledExecutor();
        try (Clients kafka = new Clients(topics)) {
            ServiceProcess a = ServiceProcess.start("scale-a", topics);
            processes.add(a);
            Load load = new Load(kafka, IntStream.range(0, SESSIONS).mapToObj(i -> "scale-" + i).toList());
            driver.scheduleWithFixedDelay(load::drive, 0, 5, TimeUnit.MILLISECONDS);

            load.awaitCompleted(TURNS_BEFORE_STEPS);
            long steadyFrom = load.completedAt(SESSIONS); // after every session's first turn (JIT warm)
            List<Step> steps = new ArrayList<>();

            ServiceProcess b = join("b (1 -> 2 processes)", "scale-b", topics, List.of(a), processes, steps);

            load.awaitSettled(steps.getLast().settledNanos());
            ServiceProcess c = join("c (2 -> 3 processes)", "scale-c", topics, List.of(a, b), processes, steps);

            load.awaitSettled(steps.getLast().settledNanos());
            long action = System.nanoTime();
            // SIGTERM in the background, as the kubelet sends it: drain, write states, commit, leave
            var stopping = CompletableFuture.runAsync(a::close);
            long rebalance = awaitFirstChange(List.of(b, c));
            awaitAssignment(List.of(b, c));
            stopping.get(60, TimeUnit.SECONDS);
            steps.add(new Step("leave a (3 -> 2 processes, SIGTERM)", action, rebalance, System.nanoTime()));

            load.awaitSettled(steps.getLast().settledNanos());
            load.stop();
            await("every prompt answered").atMost(Duration.ofSeconds(120))
                    .until(() -> load.sent().stream().allMatch(s -> kafka.completed(s.session(), s.requestId())));
            driver.shutdownNow();

            assertTrue(b.metric("ternstream_states_restored_total") + c.metric("ternstream_states_restored_total") > 0,
                    "the processes that took over partitions restored their sessions' states");
            int duplicates = assertExactlyOnce(kafka, load.sent());
            report(kafka, load, steadyFrom, steps, duplicates);
        } finally {
            driver.shutdownNow();
            for (ServiceProcess p : processes) {
                p.close();
            }
        }
    }

    /** Starts a process while the others serve, and records when the group rebalanced and settled. */
    private static ServiceProcess join(String name, String process, Broker.Topics topics, List<ServiceProcess> running,
                                       List<ServiceProcess> all, List<Step> steps) throws Exception {
        long action = System.nanoTime();
        var starting = CompletableFuture.supplyAsync(() -> ServiceProcess.start(process, topics));
        long rebalance = awaitFirstChange(running);
        ServiceProcess joined = starting.get(120, TimeUnit.SECONDS);
        all.add(joined);
        List<ServiceProcess> live = new ArrayList<>(running);
        live.add(joined);
        awaitAssignment(live);
        steps.add(new Step("join " + name, action, rebalance, System.nanoTime()));
        return joined;
    }

    /** The moment any of these processes' partition count changes (cooperative rebalancing revokes first). */
    private static long awaitFirstChange(List<ServiceProcess> running) {
        List<Double> before = running.stream().map(p -> p.metric("ternstream_partitions_assigned")).toList();
        await("the group starts rebalancing").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                .until(() -> IntStream.range(0, running.size())
                        .anyMatch(i -> running.get(i).metric("ternstream_partitions_assigned") != before.get(i)));
        return System.nanoTime();
    }

    /** Waits until the live processes together own every partition, each at least one. */
    private static void awaitAssignment(List<ServiceProcess> live) {
        await("partitions spread over " + live.size() + " processes").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> live.stream().allMatch(p -> p.metric("ternstream_partitions_assigned") >= 1)
                        && live.stream().mapToDouble(p -> p.metric("ternstream_partitions_assigned")).sum() == PARTITIONS);
    }

    /** Every request: gap-free seqs, one completion last, repeats identical to what they repeat. */
    private static int assertExactlyOnce(Clients kafka, List<Sent> sent) {
        int duplicates = 0;
        for (Sent s : sent) {
            Map<Integer, ReplyEvent> bySeq = new TreeMap<>();
            for (Clients.Received r : kafka.events(s.session())) {
                ReplyEvent e = r.event();
                if (!e.requestId().equals(s.requestId())) {
                    continue;
                }
                ReplyEvent first = bySeq.putIfAbsent(e.seq(), e);
                if (first != null) {
                    duplicates++;
                    if (e instanceof TokenEvent) {
                        assertEquals(first, e, s + " seq " + e.seq() + ": a repeat differs");
                    } else {
                        assertEquals(((TurnCompleteEvent) first).finishReason(), ((TurnCompleteEvent) e).finishReason());
                    }
                }
            }
            List<ReplyEvent> answer = List.copyOf(bySeq.values());
            for (int i = 0; i < answer.size(); i++) {
                assertEquals(i, answer.get(i).seq(), s + " has a gap: " + bySeq.keySet());
            }
            assertEquals(1, answer.stream().filter(e -> e instanceof TurnCompleteEvent).count(), s + ": one completion");
            TurnCompleteEvent done = (TurnCompleteEvent) answer.getLast();
            assertFalse(done.finishReason().toString().equalsIgnoreCase("error"), s + " ended in an error");
            assertEquals(done.usage().completionTokens(), answer.stream().filter(e -> e instanceof TokenEvent).count());
        }
        return duplicates;
    }

    private static void report(Clients kafka, Load load, long steadyFrom, List<Step> steps, int duplicates) throws IOException {
        List<Gap> gaps = gaps(kafka, load.sent());
        long steadyTo = steps.getFirst().actionNanos();
        List<Long> steady = gaps.stream().filter(g -> g.fromNanos() >= steadyFrom && g.toNanos() <= steadyTo)
                .map(Gap::millis).sorted().toList();
        assertFalse(steady.isEmpty(), "no steady-state window before the first step");
        long p50 = percentile(steady, 0.50);
        long p99 = percentile(steady, 0.99);
        long max = steady.getLast();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "scale-out: %d sessions, %d prompts, %d partitions, %d duplicate events dropped%n",
                SESSIONS, load.sent().size(), PARTITIONS, duplicates));
        out.append(String.format(Locale.ROOT, "steady state (1 process): gap between consecutive events of a request p50 %d ms, p99 %d ms, max %d ms (%d gaps)%n",
                p50, p99, max, steady.size()));
        for (Step step : steps) {
            List<Gap> rebalancing = gaps.stream().filter(g -> g.overlaps(step.rebalanceNanos(), step.settledNanos())).toList();
            long stall = rebalancing.stream().mapToLong(Gap::millis).max().orElse(0);
            long affected = rebalancing.stream().filter(g -> g.millis() > max).map(Gap::requestId).distinct().count();
            long before = gaps.stream().filter(g -> g.overlaps(step.actionNanos(), step.rebalanceNanos()))
                    .mapToLong(Gap::millis).max().orElse(0);
            out.append(String.format(Locale.ROOT, "%s:%n", step.name()));
            out.append(String.format(Locale.ROOT,
                    "  action -> group starts rebalancing %6d ms (longest gap meanwhile %d ms)%n",
                    (step.rebalanceNanos() - step.actionNanos()) / 1_000_000, before));
            out.append(String.format(Locale.ROOT,
                    "  rebalance -> settled assignment    %6d ms; longest stall of a running request %d ms"
                            + " (+%d ms over steady p99); %d requests stalled beyond the steady max%n",
                    (step.settledNanos() - step.rebalanceNanos()) / 1_000_000, stall, Math.max(0, stall - p99), affected));
            rebalancing.stream().sorted((x, y) -> Long.compare(y.millis(), x.millis())).limit(3).forEach(g -> out.append(
                    String.format(Locale.ROOT, "    stalled %-14s %6d ms, from %+6d ms to %+6d ms after the action%n", g.requestId(),
                            g.millis(), (g.fromNanos() - step.actionNanos()) / 1_000_000,
                            (g.toNanos() - step.actionNanos()) / 1_000_000)));
        }
        out.append("(per-partition hand-over and restore times: \"assigned ...: restored N sessions in T ms\" in target/it-logs/scale-*.log)\n");
        System.out.print(out);
        Path dir = Path.of(System.getProperty("ternstream.it.logs", "target/it-logs")).resolveSibling("scale-out");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("report.txt"), out);
    }

    /** Per request: send -> first event -> ... -> completion, first arrivals only. */
    private static List<Gap> gaps(Clients kafka, List<Sent> sent) {
        List<Gap> gaps = new ArrayList<>();
        for (Sent s : sent) {
            Map<Integer, Long> firstArrival = new TreeMap<>();
            for (Clients.Received r : kafka.events(s.session())) {
                if (r.event().requestId().equals(s.requestId())) {
                    firstArrival.putIfAbsent(r.event().seq(), r.nanos());
                }
            }
            long previous = s.nanos();
            for (long at : firstArrival.values().stream().sorted().toList()) {
                gaps.add(new Gap(s.requestId(), previous, at));
                previous = at;
            }
        }
        return gaps;
    }

    private static long percentile(List<Long> sorted, double q) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    }

    /**
     * The conversations: each session sends its next turn as soon as its previous one completed.
     * Greedy decoding, so a repeated turn has identical tokens.
     */
    private static final class Load {
        private final Clients kafka;
        private final List<String> sessions;
        private final Map<String, Sent> open = new ConcurrentHashMap<>();
        private final Map<String, Integer> turns = new ConcurrentHashMap<>();
        private final List<Sent> sent = Collections.synchronizedList(new ArrayList<>());
        private final List<Long> completions = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger completed = new AtomicInteger();
        private final Map<String, Long> lastCompletion = new ConcurrentHashMap<>();
        private volatile boolean stopping;
        private volatile Throwable failure;

        Load(Clients kafka, List<String> sessions) {
            this.kafka = kafka;
            this.sessions = sessions;
        }

        /** One pass of the driver; a failure stops the load and fails the waits instead of vanishing. */
        void drive() {
            if (failure != null) {
                return;
            }
            try {
                drivePass();
            } catch (Throwable t) {
                failure = t;
            }
        }

        /** Records completions and starts next turns. */
        private void drivePass() {
            for (String session : sessions) {
                Sent current = open.get(session);
                if (current != null) {
                    if (!kafka.completed(session, current.requestId())) {
                        continue;
                    }
                    open.remove(session);
                    long now = System.nanoTime();
                    completions.add(now);
                    lastCompletion.put(session, now);
                    completed.incrementAndGet();
                }
                if (!stopping) {
                    int turn = turns.merge(session, 1, Integer::sum);
                    Sent next = new Sent(session, session + "-t" + turn, System.nanoTime());
                    sent.add(next);
                    open.put(session, next);
                    kafka.send(Clients.tokens(session, next.requestId(), List.of(3 + turn % 50, 7, 11), MAX_TOKENS));
                }
            }
        }

        long completedAt(int n) {
            return completions.get(n - 1);
        }

        void awaitCompleted(int n) {
            await(n + " turns completed").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(50))
                    .failFast("the load driver failed", () -> failure != null)
                    .until(() -> completed.get() >= n);
        }

        /**
         * Waits until every session completed a turn that started after {@code nanos}, so the next step
         * meets no stall left over from the previous one.
         */
        void awaitSettled(long nanos) {
            await("every session streams again").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(50))
                    .failFast("the load driver failed", () -> failure != null)
                    .until(() -> sessions.stream().allMatch(s -> sent().stream()
                            .anyMatch(x -> x.session().equals(s) && x.nanos() > nanos && kafka.completed(s, x.requestId()))));
        }

        void stop() {
            stopping = true;
        }

        List<Sent> sent() {
            synchronized (sent) {
                return List.copyOf(sent);
            }
        }
    }
}
