package io.ternstream.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.SamplingParams;
import io.ternstream.engine.state.SessionState;
import io.ternstream.schemas.TokenEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Kafka overhead and batching gain, measured in one run (not part of the default test run; see
 * the bench profile in this module's pom): time to first token and inter-token latency over Kafka
 * versus calling the engine directly, and aggregate tokens/s at 1, 8, 32 and 128 sessions.
 * Client-side times: from the prompt's send to the token event's arrival at a consumer.
 */
class ServiceBenchmarkIT {
    /** Rounds of the aggregate runs (-Dternstream.bench.rounds). */
    private static final int AGGREGATE_ROUNDS = Integer.getInteger("ternstream.bench.rounds", 7);
    /**
     * The service's role: engine, as the engine StatefulSet runs it (k8s/base); "all" adds the gateway,
     * whose reply consumers read every token event on the same two cores.
     */
    private static final String ROLE = System.getProperty("ternstream.bench.role", "engine");
    private static final int WARM_ROUND_TRIPS = Integer.getInteger("ternstream.bench.warmRoundTrips", 1000);
    private static final List<Integer> PROMPT = IntStream.range(0, 16).mapToObj(i -> 3 + i * 7).toList();
    private static final int TOKENS = 64;
    /**
     * Tokens per turn in the aggregate runs (-Dternstream.bench.aggregateTokens): a chat reply's length,
     * so that the rates are those of sessions generating rather than of 16-token prompts being read (at
     * 64 tokens a 32-session run spent a fifth of its time in prefill), and a one-session turn lasts long
     * enough (0.4 s) to be timed on a shared machine.
     */
    private static final int AGGREGATE_TOKENS = Integer.getInteger("ternstream.bench.aggregateTokens", 256);
    private static final int SAMPLES = 30;
    /** The bundled model by default; -Dternstream.bench.model=golden for the tiny golden checkpoint. */
    private static final java.nio.file.Path MODEL = "golden".equals(System.getProperty("ternstream.bench.model"))
            ? ServiceProcess.GOLDEN_MODEL : ServiceProcess.BUNDLED_MODEL;

    @Test
    void kafkaOverheadAndThroughput() throws Exception {
        StringBuilder report = new StringBuilder("model: " + MODEL.getFileName() + ", service role: " + ROLE + "\n\n");
        double[] direct = engineDirect();
        int[] counts = {1, 8, 32, 128};
        double[] directBatch = new double[counts.length];
        for (int k = 0; k < counts.length; k++) directBatch[k] = directBatch(counts[k]); // before the broker and service compete for the cores
        Broker.Topics topics = Broker.Topics.create("bench", 4);
        try (Clients kafka = new Clients(topics);
             // the JVM flags of a deployment, one engine thread: the broker and the client share the two cores
             ServiceProcess service = ServiceProcess.start("bench", topics, MODEL, ServiceProcess.PRODUCTION_JVM,
                     "-Dternstream.model.threads=1", "-Dternstream.role=" + ROLE,
                     "-Dternstream.kafka.producer-linger=" + Integer.getInteger("lingerMs", 0) + "ms")) {
            runBatch(kafka, "warm", 32, TOKENS); // JIT warm-up of the service and the engine
            // and of the latency path through Kafka: one record each way at a time, as the samples below
            // send them. A fresh broker and its clients run their code interpreted for the first thousands
            // of round trips (about 10 ms per hop at first, 2 ms after 2,700 in a ping-pong probe); a
            // production broker is warm.
            for (int i = 0; i < WARM_ROUND_TRIPS; i++) {
                String session = "warm-rt-" + i;
                kafka.send(Clients.tokens(session, "r", PROMPT, 2));
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1))
                        .until(() -> kafka.completed(session, "r"));
            }
            List<Double> ttft = new ArrayList<>();
            List<Double> itl = new ArrayList<>();
            List<Double> serviceTtft = new ArrayList<>();
            List<Double> inbound = new ArrayList<>();
            List<Double> outbound = new ArrayList<>();
            for (int i = 0; i < SAMPLES; i++) {
                String session = "lat-" + i;
                long sent = System.nanoTime();
                long promptTimestamp = kafka.send(Clients.tokens(session, "r", PROMPT, TOKENS));
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                        .until(() -> kafka.completed(session, "r"));
                List<Clients.Received> events = kafka.events(session).stream()
                        .filter(r -> r.event() instanceof TokenEvent).toList();
                ttft.add((events.getFirst().nanos() - sent) / 1e6);
                double inService = kafka.completion(session, "r").usage().timeToFirstTokenMs();
                serviceTtft.add(inService);
                Clients.Received first = events.getFirst();
                // record timestamps (ms, one clock): prompt created -> first token created -> first token received
                inbound.add(first.recordTimestamp() - promptTimestamp - inService);
                outbound.add((double) (first.receivedMillis() - first.recordTimestamp()));
                // mean interval of the turn: single gaps say more about the consumer's fetch batching
                itl.add((events.getLast().nanos() - events.getFirst().nanos()) / 1e6 / (events.size() - 1));
            }
            double kafkaTtft = median(ttft);
            double kafkaItl = median(itl);
            report.append("| measure (p50) | engine direct | over Kafka | Kafka overhead |\n|---|---|---|---|\n");
            report.append(String.format("| time to first token, %d-token prompt | %.2f ms | %.2f ms | %.2f ms |%n",
                    PROMPT.size(), direct[0], kafkaTtft, kafkaTtft - direct[0]));
            report.append(String.format("| inter-token latency (mean of a %d-token turn) | %.3f ms | %.3f ms | %.3f ms |%n",
                    TOKENS, direct[1], kafkaItl, kafkaItl - direct[1]));
            report.append(String.format("%nof the time to first token over Kafka, inside the service (record polled to first"
                    + " token handed to the producer), p50: %.2f ms; prompt record created to polled by the service,"
                    + " p50: %.1f ms; token record created to received by the client, p50: %.1f ms"
                    + " (record timestamps have millisecond resolution)%n", median(serviceTtft), median(inbound),
                    median(outbound)));
            report.append(String.format("%nload average during the run: %s%n%n", loadAverage()));
            // Rounds of 1, 8, 32 and 128 sessions back to back; each round's ratios compare runs made
            // seconds apart, so the machine's drifting load cancels out of them (a one-session turn
            // lasts a fifth of a second, and single runs of it moved by 2× between rounds).
            double[][] rates = new double[counts.length][AGGREGATE_ROUNDS];
            for (int round = 0; round < AGGREGATE_ROUNDS; round++) {
                for (int k = 0; k < counts.length; k++) {
                    double[] r = runBatch(kafka, "agg" + counts[k] + "-" + round, counts[k], AGGREGATE_TOKENS);
                    rates[k][round] = r[0] / r[1];
                }
            }
            report.append(String.format("%d-token prompts, %d tokens generated per turn%n%n", PROMPT.size(), AGGREGATE_TOKENS));
            report.append(String.format("| concurrent sessions | tokens/s over Kafka (median of %d rounds) | vs 1 session"
                    + " (median of the rounds' ratios) | range of the ratios | engine direct stepBatch tokens/s (measured first) |%n"
                    + "|---|---|---|---|---|%n", AGGREGATE_ROUNDS));
            for (int k = 0; k < counts.length; k++) {
                double[] ratios = new double[AGGREGATE_ROUNDS];
                for (int round = 0; round < AGGREGATE_ROUNDS; round++) ratios[round] = rates[k][round] / rates[0][round];
                report.append(String.format("| %d | %.0f | %.1fx | %.1f–%.1fx | %.0f |%n", counts[k], median(rates[k]),
                        median(ratios), Arrays.stream(ratios).min().orElseThrow(), Arrays.stream(ratios).max().orElseThrow(),
                        directBatch[k]));
            }
            report.append(String.format("%nservice metrics: batch size mean %.1f%n",
                    service.metric("ternstream_batch_size_sum") / service.metric("ternstream_batch_size_count")));
        }
        System.out.println(report);
        Path out = Path.of(System.getProperty("ternstream.bench.out", "target/bench"));
        Files.createDirectories(out);
        Files.writeString(out.resolve("service.md"), report);
    }

    /** Sends one prompt to each of n new sessions at once; returns {tokens, seconds} until all complete. */
    private static double[] runBatch(Clients kafka, String prefix, int n, int maxTokens) {
        List<String> sessions = IntStream.range(0, n).mapToObj(i -> prefix + "-" + i).toList();
        long start = System.nanoTime();
        kafka.sendAll(sessions.stream().map(s -> Clients.tokens(s, "r", PROMPT, maxTokens)).toList());
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(5))
                .until(() -> sessions.stream().allMatch(s -> kafka.completed(s, "r")));
        long end = sessions.stream().flatMap(s -> kafka.events(s).stream()).mapToLong(Clients.Received::nanos).max()
                .orElseThrow(); // arrival of the last event, not when the wait noticed it
        double seconds = (end - start) / 1e9;
        double tokens = sessions.stream().mapToInt(s -> kafka.completion(s, "r").usage().completionTokens()).sum();
        assertTrue(tokens > 0);
        return new double[] {tokens, seconds};
    }

    /** {time to first token, inter-token latency} in ms, p50, with the engine called in this JVM. */
    private static double[] engineDirect() throws Exception {
        try (Engine engine = Engine.open(MODEL, new EngineOptions(1))) {
            int[] prompt = PROMPT.stream().mapToInt(Integer::intValue).toArray();
            List<Double> ttft = new ArrayList<>();
            List<Double> itl = new ArrayList<>();
            for (int round = 0; round < SAMPLES + 10; round++) {
                SessionState state = engine.newState();
                Sampler sampler = new Sampler(SamplingParams.greedy());
                long t0 = System.nanoTime();
                int token = sampler.sample(engine.prefill(state, prompt), null, 0);
                long t1 = System.nanoTime();
                for (int k = 1; k < TOKENS; k++) {
                    token = sampler.sample(engine.step(state, token), null, 0);
                }
                long t2 = System.nanoTime();
                if (round >= 10) { // after warm-up
                    ttft.add((t1 - t0) / 1e6);
                    itl.add((t2 - t1) / 1e6 / (TOKENS - 1));
                }
            }
            return new double[] {median(ttft), median(itl)};
        }
    }

    /** Tokens/s of the engine alone stepping a batch of this many sessions (no sampling, no Kafka). */
    private static double directBatch(int batch) throws Exception {
        try (Engine engine = Engine.open(MODEL, new EngineOptions(1))) {
            SessionState[] states = new SessionState[batch];
            int[] tokens = new int[batch];
            float[][] logits = new float[batch][engine.config().vocabSize()];
            for (int i = 0; i < batch; i++) {
                states[i] = engine.newState();
                tokens[i] = 5 + i % 100;
            }
            for (long end = System.nanoTime() + 500_000_000L; System.nanoTime() < end; ) {
                engine.stepBatch(states, tokens, logits); // JIT warm-up, half a second
            }
            long t0 = System.nanoTime();
            int steps = 0;
            while (steps < TOKENS || System.nanoTime() - t0 < 500_000_000L) {
                engine.stepBatch(states, tokens, logits);
                steps++;
            }
            return (double) batch * steps / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    private static double median(List<Double> values) {
        return median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }
}
