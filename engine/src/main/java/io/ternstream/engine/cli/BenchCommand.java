package io.ternstream.engine.cli;

import io.ternstream.engine.model.Forward;
import io.ternstream.engine.model.HgrnBitConfig;
import io.ternstream.engine.model.HgrnBitModel;
import io.ternstream.engine.model.ModelLoader;
import io.ternstream.engine.model.RandomModels;
import io.ternstream.engine.parallel.MemoryBandwidth;
import io.ternstream.engine.parallel.WorkerPool;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tensor.TernaryKernel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code ./ternstream bench}: prefill and decode throughput and latency, one JSON object per line for
 * every combination of --threads, --context and --batch. Runs the engine's forward pass directly with
 * preallocated buffers (what {@code Engine.stepBatch} runs), greedy next tokens, after a JIT warm-up.
 * A memory-read probe in the same process gives the bandwidth bound to compare with.
 *
 * <p>Made for shared, noisy machines: all configurations live in one process and are measured in
 * interleaved rounds, and rates come from medians (decode: batch ÷ median step time; prefill: median of
 * --repeats), so that ratios between configurations hold even when absolute numbers move.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Engine throughput and latency on a model folder or a random model of a published shape; one JSON object per line.")
public final class BenchCommand implements java.util.concurrent.Callable<Integer> {

    static final class Source {
        @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face HGRN-Bit model folder")
        Path model;
        @Option(names = "--random-config", paramLabel = "370m|1.3b|2.7b|FILE",
                description = "random ternary weights in a published shape, or in the shape of a config.json")
        String randomConfig;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "256", description = "prompt length for the prefill measurement (default ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = "--gen-tokens", paramLabel = "M", defaultValue = "64", description = "decode steps measured per configuration (default ${DEFAULT-VALUE})")
    int genTokens;

    @Option(names = "--threads", paramLabel = "T[,T...]", split = ",", description = "worker threads (default: all cores); a list runs each")
    List<Integer> threads;

    @Option(names = "--batch", paramLabel = "B[,B...]", split = ",", defaultValue = "1", description = "sessions decoding together (default ${DEFAULT-VALUE})")
    List<Integer> batch;

    @Option(names = "--context", paramLabel = "N[,N...]", split = ",", defaultValue = "16",
            description = "tokens consumed (prefilled) before decode is measured (default ${DEFAULT-VALUE})")
    List<Integer> context;

    @Option(names = "--warmup-tokens", paramLabel = "N", defaultValue = "48", description = "untimed decode steps per configuration first (default ${DEFAULT-VALUE})")
    int warmupTokens;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "3", description = "prefill measurements, the median is reported (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--bandwidth-mib", paramLabel = "MIB", defaultValue = "1024",
            description = "size of the bandwidth probe's array; keep it far above the caches (default ${DEFAULT-VALUE})")
    int bandwidthMib;

    @Option(names = "--rounds", paramLabel = "R", defaultValue = "4",
            description = "decode is measured in R interleaved rounds over all configurations (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the random model and tokens (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--bandwidth", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "measure memory read bandwidth (1 GiB, best of 5) and report the bound (default on)")
    boolean bandwidth;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        List<Integer> threadCounts = threads != null ? threads : List.of(Runtime.getRuntime().availableProcessors());
        for (int t : threadCounts) require(t >= 1, "--threads must be >= 1");
        for (int b : batch) require(b >= 1, "--batch must be >= 1");
        for (int c : context) require(c >= 1, "--context must be >= 1");
        require(bandwidthMib >= 1, "--bandwidth-mib must be >= 1");
        require(promptTokens >= 1 && genTokens >= 1 && warmupTokens >= 0 && repeats >= 1 && rounds >= 1,
                "--prompt-tokens, --gen-tokens, --repeats and --rounds must be >= 1");

        if (source.model != null && !Files.isDirectory(source.model)) throw new IllegalArgumentException(source.model + ": not a model folder");
        HgrnBitConfig randomConfig = source.randomConfig != null ? RandomModels.config(source.randomConfig) : null;

        // bandwidth first, so that its 1 GiB probe is gone before the model's memory is measured
        Map<Integer, Double> bytesPerSecond = new HashMap<>();
        if (bandwidth) {
            long probe = (long) bandwidthMib << 20;
            bytesPerSecond.put(1, MemoryBandwidth.measure(1, probe));
            for (int t : threadCounts) bytesPerSecond.computeIfAbsent(t, n -> MemoryBandwidth.measure(n, probe));
        }

        String configName;
        HgrnBitModel model;
        if (source.model != null) {
            model = ModelLoader.load(source.model);
            configName = model.name();
        } else {
            model = RandomModels.create(randomConfig, "random-" + source.randomConfig, seed);
            configName = source.randomConfig;
        }
        try (model) {
            TernaryKernel kernel = TernaryKernel.selected(model.packedWeightBytes());
            int vocab = model.config().vocabSize();
            int maxBatch = batch.stream().mapToInt(Integer::intValue).max().orElse(1);
            int columns = Math.max(32, maxBatch); // also the prefill chunk: the LUT kernel gains nothing from longer ones
            SplittableRandom random = new SplittableRandom(seed);
            List<WorkerPool> pools = new ArrayList<>();
            try {
                List<Runner> runners = new ArrayList<>();
                for (int t : threadCounts) {
                    WorkerPool pool = new WorkerPool(t);
                    pools.add(pool);
                    Runner runner = new Runner(new Forward(model, pool, kernel, columns), model, columns, maxBatch);
                    runner.prefill(newState(model), randomTokens(random, vocab, Math.min(promptTokens, 64)));
                    runner.decode(stateCopies(newState(model), maxBatch), warmupTokens, maxBatch); // JIT warm-up
                    runners.add(runner);
                }
                System.gc(); // drop the set-up and interpreter garbage before resident memory is measured

                // prefill: the thread counts alternate, the median of the repeats is reported
                double[][] prefillRates = new double[runners.size()][repeats];
                for (int i = 0; i < repeats; i++) {
                    int[] prompt = randomTokens(random, vocab, promptTokens);
                    for (int k = 0; k < runners.size(); k++) {
                        long start = System.nanoTime();
                        runners.get(k).prefill(newState(model), prompt);
                        prefillRates[k][i] = promptTokens * 1e9 / (System.nanoTime() - start);
                    }
                }

                // contexts: consumed once, by the runner with the most threads, then copied per session
                Runner fastest = runners.get(threadCounts.indexOf(threadCounts.stream().max(Integer::compare).orElseThrow()));
                Map<Integer, SessionState> contexts = new HashMap<>();
                for (int ctx : context) {
                    if (contexts.containsKey(ctx)) continue;
                    SessionState base = newState(model);
                    fastest.prefill(base, randomTokens(random, vocab, ctx));
                    contexts.put(ctx, base);
                }

                // decode: every configuration gets a slice of each round, so that a noisy neighbour's
                // bursts fall on all of them alike; step times are pooled per configuration
                List<Config> configs = new ArrayList<>();
                for (int k = 0; k < runners.size(); k++) {
                    for (int ctx : context) {
                        for (int b : batch) configs.add(new Config(k, threadCounts.get(k), ctx, b, stateCopies(contexts.get(ctx), b), new long[genTokens], new long[genTokens]));
                    }
                }
                int rounds = Math.max(1, Math.min(this.rounds, genTokens));
                for (int r = 0; r < rounds; r++) {
                    int from = WorkerPool.split(genTokens, r, rounds), to = WorkerPool.split(genTokens, r + 1, rounds);
                    for (Config c : configs) {
                        Runner runner = runners.get(c.runner);
                        runner.decode(c.states, Math.min(2, warmupTokens), c.batch); // back into cache after the others
                        long[] nanos = runner.decode(c.states, to - from, c.batch);
                        System.arraycopy(nanos, 0, c.stepNanos, from, to - from);
                        System.arraycopy(runner.cpuNanos, 0, c.stepCpuNanos, from, to - from);
                    }
                }

                long weightBytes = model.packedWeightBytes();
                for (Config c : configs) {
                    double p50 = percentile(c.stepNanos, 0.50);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("config", configName);
                    row.put("kernel", kernel.name());
                    row.put("threads", c.threads);
                    row.put("batch", c.batch);
                    row.put("context", c.context);
                    row.put("prompt_tokens", promptTokens);
                    row.put("gen_tokens", genTokens);
                    row.put("prefill_tokens_per_s", round(median(prefillRates[c.runner])));
                    double decodeRate = c.batch * 1e9 / p50;
                    row.put("decode_tokens_per_s", round(decodeRate));
                    row.put("decode_tokens_per_s_mean", round((double) c.batch * genTokens * 1e9 / Arrays.stream(c.stepNanos).sum()));
                    row.put("decode_ms_p50", round(p50 / 1e6));
                    row.put("decode_ms_p99", round(percentile(c.stepNanos, 0.99) / 1e6));
                    // the fastest step: the least disturbed by other processes on a shared machine, so the
                    // steadiest figure for comparing configurations (contexts, kernels) within a run
                    row.put("decode_ms_min", round(Arrays.stream(c.stepNanos).min().orElseThrow() / 1e6));
                    // CPU time of the calling thread per step: with one thread, the step's work without the
                    // time other processes held the core (the machine-independent part of a noisy measurement)
                    row.put("decode_cpu_ms_p50_calling_thread", round(percentile(c.stepCpuNanos, 0.50) / 1e6));
                    row.put("weight_bytes", weightBytes);
                    row.put("embedding_bytes", model.embeddings().bytes());
                    row.put("state_bytes_per_session", contexts.get(c.context).serializedSize());
                    row.put("rss_bytes", rssBytes("VmRSS:"));
                    row.put("rss_anon_bytes", rssBytes("RssAnon:"));
                    row.put("rss_file_bytes", rssBytes("RssFile:"));
                    if (bandwidth) {
                        double bw1 = bytesPerSecond.get(1), bwT = bytesPerSecond.get(c.threads);
                        row.put("read_gb_per_s_1_thread", round(bw1 / 1e9));
                        row.put("read_gb_per_s", round(bwT / 1e9));
                        double bound1 = bw1 / weightBytes;
                        row.put("bound_tokens_per_s_1_thread", round(bound1));
                        row.put("bound_tokens_per_s", round(bwT / weightBytes));
                        row.put("decode_fraction_of_1_thread_bound", round(decodeRate / bound1));
                    }
                    out.println(json(row));
                }
                out.flush();
            } finally {
                pools.forEach(WorkerPool::close);
            }
        }
        return 0;
    }

    /** One measured configuration: its runner (thread count), context, batch, sessions and step times. */
    private record Config(int runner, int threads, int context, int batch, SessionState[] states, long[] stepNanos, long[] stepCpuNanos) {}

    /** Runs prefill and batched decode through one {@link Forward} with preallocated buffers. */
    private static final class Runner {
        private final Forward forward;
        private final int columns;
        private final int[] tokens;
        private final SessionState[] states;
        private final float[][] logits;
        private final float[][] logitBuffers;

        Runner(Forward forward, HgrnBitModel model, int columns, int maxBatch) {
            this.forward = forward;
            this.columns = columns;
            this.tokens = new int[columns];
            this.states = new SessionState[columns];
            this.logits = new float[columns][];
            this.logitBuffers = new float[maxBatch][model.config().vocabSize()];
        }

        /** Consumes {@code prompt} in chunks of {@code columns} positions; logits only after the last. */
        void prefill(SessionState state, int[] prompt) {
            for (int start = 0; start < prompt.length; start += columns) {
                int n = Math.min(columns, prompt.length - start);
                for (int c = 0; c < n; c++) {
                    tokens[c] = prompt[start + c];
                    states[c] = state;
                    logits[c] = start + c == prompt.length - 1 ? logitBuffers[0] : null;
                }
                forward.run(n, tokens, states, logits, null);
            }
        }

        /** CPU time of the calling thread per step of the last {@link #decode} call. */
        long[] cpuNanos = new long[0];

        /** {@code steps} greedy decode steps of {@code b} sessions together; returns each step's time. */
        long[] decode(SessionState[] sessions, int steps, int b) {
            long[] nanos = new long[steps];
            cpuNanos = new long[steps];
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            int[] next = new int[b];
            for (int c = 0; c < b; c++) next[c] = 1 + c;
            for (int s = 0; s < steps; s++) {
                long cpu = mx.getCurrentThreadCpuTime();
                long start = System.nanoTime();
                for (int c = 0; c < b; c++) {
                    tokens[c] = next[c];
                    states[c] = sessions[c];
                    logits[c] = logitBuffers[c];
                }
                forward.run(b, tokens, states, logits, null);
                for (int c = 0; c < b; c++) next[c] = Sampler.argmax(logitBuffers[c]);
                nanos[s] = System.nanoTime() - start;
                cpuNanos[s] = mx.getCurrentThreadCpuTime() - cpu;
            }
            return nanos;
        }
    }

    private static SessionState newState(HgrnBitModel model) {
        return new SessionState(model.fingerprint(), model.config().numHiddenLayers(), model.config().mixerDim());
    }

    private static SessionState[] stateCopies(SessionState base, int n) {
        SessionState[] s = new SessionState[n];
        for (int i = 0; i < n; i++) s[i] = base.copy();
        return s;
    }

    private static int[] randomTokens(SplittableRandom random, int vocab, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = random.nextInt(vocab);
        return t;
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Nearest-rank percentile. */
    static double percentile(long[] values, double p) {
        long[] s = values.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** A resident-memory field of /proc/self/status (Linux) in bytes; -1 where unavailable. */
    static long rssBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException ignored) {
            // not Linux: reported as unknown
        }
        return -1;
    }

    private static String json(Map<String, Object> row) {
        List<String> fields = new ArrayList<>();
        row.forEach((k, v) -> fields.add("\"" + k + "\":" + (v instanceof String s ? "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""
                : v instanceof Double d ? String.format(Locale.ROOT, "%s", d) : v)));
        return "{" + String.join(",", fields) + "}";
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
