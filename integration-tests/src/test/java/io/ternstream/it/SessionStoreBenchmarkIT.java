package io.ternstream.it;

import static org.awaitility.Awaitility.await;

import io.ternstream.schemas.TokenEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * What the engine role's session stores cost and buy, measured in one run (bench profile only):
 * <ol>
 *   <li>failover: many idle sessions on two instances, kill -9 of one, then the time until every probe
 *       session answers its first token, without and with a standby replica; CPU of an idle instance;</li>
 *   <li>memory: one engine with a bounded heap, resident memory and sessions held in memory after a first
 *       and after a second wave of new sessions (held on the heap, each would cost its record);</li>
 *   <li>exactly-once against at-least-once: first-token and per-token latency at a read_committed
 *       consumer, the two modes run one after the other on the same broker.</li>
 * </ol>
 * The bundled model; client-side times (prompt sent to event received).
 */
class SessionStoreBenchmarkIT {
    private static final int SESSIONS = Integer.getInteger("ternstream.bench.sessions", 2000);
    private static final int TURNS = Integer.getInteger("ternstream.bench.turns", 3);
    private static final int PROBES = 40;
    private static final int SAMPLES = 30;
    private static final List<Integer> PROMPT = IntStream.range(0, 16).mapToObj(i -> 3 + i * 7).toList();
    private static final StringBuilder REPORT = new StringBuilder();

    @Test
    void failoverMemoryAndDeliveryCost() throws Exception {
        report("model: %s, %d sessions x %d turns", ServiceProcess.BUNDLED_MODEL.getFileName(), SESSIONS, TURNS);
        for (int standbys : new int[] {0, 1}) {
            failover(standbys);
        }
        memory();
        for (String delivery : List.of("at-least-once", "exactly-once")) {
            latency(delivery);
        }
        Path out = Path.of(System.getProperty("ternstream.bench.out", "target/bench"));
        Files.createDirectories(out);
        Files.writeString(out.resolve("session-store.txt"), REPORT);
    }

    private void failover(int standbys) throws Exception {
        Broker.Topics topics = Broker.Topics.create("store-bench-" + standbys, 4);
        String standby = "-Dternstream.kafka.standby-replicas=" + standbys;
        try (Clients kafka = new Clients(topics);
             ServiceProcess a = ServiceProcess.start("store-bench-a" + standbys, topics, ServiceProcess.BUNDLED_MODEL,
                     ServiceProcess.PRODUCTION_JVM, standby);
             ServiceProcess b = ServiceProcess.start("store-bench-b" + standbys, topics, ServiceProcess.BUNDLED_MODEL,
                     ServiceProcess.PRODUCTION_JVM, standby)) {
            await().atMost(Duration.ofSeconds(120)).until(() -> a.metric("ternstream_partitions_assigned") == 2
                    && b.metric("ternstream_partitions_assigned") == 2);
            long t0 = System.nanoTime();
            for (int turn = 0; turn < TURNS; turn++) {
                String request = "t" + turn;
                kafka.sendAll(IntStream.range(0, SESSIONS).mapToObj(i -> Clients.sampled("s" + i, request,
                        List.of(3 + i % 200, 7, 11, 13), 2)).toList());
                await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(200))
                        .until(() -> IntStream.range(0, SESSIONS).allMatch(i -> kafka.completed("s" + i, request)));
            }
            report("standby %d: %d turns in %.1f s", standbys, SESSIONS * TURNS, (System.nanoTime() - t0) / 1e9);
            double cpu0 = a.cpuSeconds();
            Thread.sleep(10_000); // an idle instance: what its threads cost when no one chats
            report("  idle instance (engine and gateway roles): %.1f%% of one core over 10 s", (a.cpuSeconds() - cpu0) * 10);
            long killed = System.nanoTime();
            a.kill9();
            List<Integer> probes = IntStream.range(0, PROBES).map(i -> i * (SESSIONS / PROBES)).boxed().toList();
            kafka.sendAll(probes.stream().map(i -> Clients.sampled("s" + i, "probe", PROMPT, 4)).toList());
            List<Double> firstTokens = new ArrayList<>();
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(20))
                    .until(() -> probes.stream().allMatch(i -> kafka.completed("s" + i, "probe")));
            for (int i : probes) {
                kafka.events("s" + i).stream().filter(r -> r.event().requestId().equals("probe") && r.event() instanceof TokenEvent)
                        .findFirst().ifPresent(r -> firstTokens.add((r.nanos() - killed) / 1e6));
            }
            Collections.sort(firstTokens);
            report("  kill -9 of one of two: first token of every probe within %.0f ms (median %.0f ms) of the kill;"
                    + " the group's session timeout is 4 s", firstTokens.getLast(), firstTokens.get(firstTokens.size() / 2));
        }
    }

    private void memory() throws Exception {
        Broker.Topics topics = Broker.Topics.create("memory-bench", 4);
        try (Clients kafka = new Clients(topics);
             ServiceProcess engine = ServiceProcess.start("memory-bench", topics, ServiceProcess.BUNDLED_MODEL,
                     List.of("-Xmx256m", "-XX:+UseSerialGC"), "-Dternstream.role=engine")) {
            int wave = Integer.getInteger("ternstream.bench.wave", 10_000);
            double[] rss = new double[3];
            rss[0] = engine.residentMib();
            for (int w = 1; w <= 2; w++) {
                int first = (w - 1) * wave;
                kafka.sendAll(IntStream.range(first, first + wave).mapToObj(i -> Clients.sampled("m" + i, "r",
                        List.of(3 + i % 200, 7, 11, 13), 2)).toList());
                await().atMost(Duration.ofMinutes(15)).pollInterval(Duration.ofMillis(500))
                        .until(() -> IntStream.range(first, first + wave).allMatch(i -> kafka.completed("m" + i, "r")));
                await().atMost(Duration.ofSeconds(30)).until(() -> engine.metric("ternstream_sessions_held") == 0);
                rss[w] = engine.residentMib();
            }
            report("memory, one engine, -Xmx256m: RSS %.0f MiB at start, %.0f MiB after %d sessions, %.0f MiB after %d;"
                    + " sessions held in memory once idle: %.0f", rss[0], rss[1], wave, rss[2], 2 * wave,
                    engine.metric("ternstream_sessions_held"));
        }
    }

    private void latency(String delivery) throws Exception {
        Broker.Topics topics = Broker.Topics.create("delivery-bench-" + delivery, 4);
        try (Clients kafka = new Clients(topics);
             ServiceProcess service = ServiceProcess.start("delivery-bench-" + delivery, topics, ServiceProcess.BUNDLED_MODEL,
                     ServiceProcess.PRODUCTION_JVM, "-Dternstream.delivery=" + delivery, "-Dternstream.role=engine")) {
            List<Double> ttft = new ArrayList<>();
            List<Double> itl = new ArrayList<>();
            for (int i = -10; i < SAMPLES; i++) { // the first ten warm the path up
                String session = "lat-" + i;
                long sent = System.nanoTime();
                kafka.send(Clients.tokens(session, "r", PROMPT, 32));
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1)).until(() -> kafka.completed(session, "r"));
                if (i < 0) {
                    continue;
                }
                List<Clients.Received> tokens = kafka.events(session).stream().filter(r -> r.event() instanceof TokenEvent).toList();
                ttft.add((tokens.getFirst().nanos() - sent) / 1e6);
                for (int k = 1; k < tokens.size(); k++) {
                    itl.add((tokens.get(k).nanos() - tokens.get(k - 1).nanos()) / 1e6);
                }
            }
            Collections.sort(ttft);
            Collections.sort(itl);
            report("%s: first token p50 %.1f ms p90 %.1f ms; between tokens p50 %.2f ms p90 %.2f ms p99 %.2f ms",
                    delivery, ttft.get(ttft.size() / 2), ttft.get(ttft.size() * 9 / 10), itl.get(itl.size() / 2),
                    itl.get(itl.size() * 9 / 10), itl.get(itl.size() * 99 / 100));
        }
    }

    private static void report(String format, Object... args) {
        String line = String.format(format, args);
        System.out.println(line);
        REPORT.append(line).append('\n');
    }
}
