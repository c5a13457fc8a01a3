package io.ternstream.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The service as a separate JVM ({@code quarkus-run.jar serve}), exactly as deployed, so a test
 * can kill it with SIGKILL. Output goes to target/it-logs/NAME.log.
 */
final class ServiceProcess implements AutoCloseable {
    static final Path GOLDEN_MODEL = Path.of(System.getProperty("ternstream.golden.dir", "../engine/src/test/resources/golden/hgrn-bit-tiny"));
    static final Path BUNDLED_MODEL = Path.of(System.getProperty("ternstream.bundled.dir", "../models/ternstream-tiny"));
    private static final Path APP = Path.of(System.getProperty("ternstream.service.app", "../service/target/quarkus-app"));
    private static final Path LOGS = Path.of(System.getProperty("ternstream.it.logs", "target/it-logs"));
    /** Heap and GC of the test instances: small and single-threaded, as many run side by side. */
    static final List<String> TEST_JVM = List.of("-Xmx384m", "-XX:+UseSerialGC");
    /** Heap and GC of a deployed instance (the Dockerfile's and {@code ./ternstream serve}'s), for benchmarks. */
    static final List<String> PRODUCTION_JVM = List.of("-XX:+UseParallelGC");
    /** How soon the group notices a dead instance: short, so takeovers fit in a test. */
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);
    /** Extra JVM options for every service process, space-separated (a profiler, GC logging). */
    private static final String JVM_OPTIONS = System.getProperty("ternstream.it.serviceJvmOptions", "");

    private final Process process;
    private final int httpPort;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private ServiceProcess(Process process, int httpPort, Path log) {
        this.process = process;
        this.httpPort = httpPort;
        this.log = log;
    }

    /** Starts an instance and waits until it is ready and owns partitions. */
    static ServiceProcess start(String name, Broker.Topics topics, String... extraProperties) {
        return start(name, topics, GOLDEN_MODEL, extraProperties);
    }

    static ServiceProcess start(String name, Broker.Topics topics, Path model, String... extraProperties) {
        return start(name, topics, model, TEST_JVM, extraProperties);
    }

    /** {@code jvm}: heap and GC flags ({@link #TEST_JVM} or {@link #PRODUCTION_JVM}). */
    static ServiceProcess start(String name, Broker.Topics topics, Path model, List<String> jvm, String... extraProperties) {
        // a gateway-only instance owns no prompt partitions: ready is all it can report
        return start(name, Broker.bootstrapServers(), !List.of(extraProperties).contains("-Dternstream.role=gateway"),
                topics, model, jvm, extraProperties);
    }

    /**
     * Starts an instance against the given brokers and waits until it is ready, and when
     * {@code awaitPartitions}, until it owns partitions (an instance joining a busy group may own none
     * for a while).
     */
    static ServiceProcess start(String name, String bootstrapServers, boolean awaitPartitions, Broker.Topics topics,
                                Path model, List<String> jvm, String... extraProperties) {
        try {
            Files.createDirectories(LOGS);
            int port = freePort();
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                    "-Dai.djl.offline=true", "-DOPT_OUT_TRACKING=true"));
            cmd.addAll(jvm);
            cmd.addAll(List.of("-Dternstream.kafka.session-timeout=" + SESSION_TIMEOUT.toMillis() + "ms",
                    "-Dternstream.model.threads=1"));
            cmd.addAll(topics.serviceArgs());
            cmd.addAll(List.of(extraProperties));
            if (!JVM_OPTIONS.isBlank()) cmd.addAll(List.of(JVM_OPTIONS.trim().split("\\s+")));
            cmd.addAll(List.of("-jar", APP.resolve("quarkus-run.jar").toString(), "serve",
                    "--bootstrap-servers", bootstrapServers,
                    "--model", model.toString(),
                    "--http-port", Integer.toString(port)));
            Path log = LOGS.resolve(name + ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            ServiceProcess service = new ServiceProcess(p, port, log);
            // no instance outlives the test JVM, whatever ends it
            Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
            try {
                service.awaitReady(awaitPartitions);
            } catch (RuntimeException e) {
                service.kill9(); // not left running behind a failed start
                throw e;
            }
            return service;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitReady(boolean ownsPartitions) {
        await("service " + log.getFileName() + " ready").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                .failFast(() -> !process.isAlive())
                .until(() -> get("/q/health/ready") == 200
                        && (!ownsPartitions || metric("ternstream_partitions_assigned") > 0));
    }

    /** http://127.0.0.1:PORT, where the gateway's HTTP API and WebSocket listen. */
    String baseUrl() {
        return "http://127.0.0.1:" + httpPort;
    }

    int get(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    String body(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }

    /** Sum of a Prometheus series (all label sets), or -1 when the endpoint does not answer. */
    double metric(String name) {
        String text = body("/q/metrics");
        if (text.isEmpty()) {
            return -1;
        }
        double sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** A quantile of a Prometheus summary, e.g. quantile("x_seconds", "0.5"). */
    double quantile(String name, String q) {
        for (String line : body("/q/metrics").split("\n")) {
            if (line.startsWith(name + "{") && line.contains("quantile=\"" + q + "\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    /** What {@code ./ternstream client ...} printed, and its exit status. */
    record ClientRun(int status, String out, String err) {}

    /** Runs the terminal client ({@code quarkus-run.jar client ...}) as its own process. */
    static ClientRun client(String... args) {
        try {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", APP.resolve("quarkus-run.jar").toString(), "client"));
            cmd.addAll(List.of(args));
            Path out = Files.createTempFile("client", ".out");
            Path err = Files.createTempFile("client", ".err");
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("client did not finish");
            }
            return new ClientRun(p.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** SIGKILL: no shutdown hook, no commit, no leaving the group. */
    void kill9() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean alive() {
        return process.isAlive();
    }

    /** What the service has logged so far. */
    String logText() throws IOException {
        return Files.readString(log);
    }

    /** The operating system's id of the service's JVM, for reading its /proc entries and signalling it. */
    long pid() {
        return process.pid();
    }

    /** SIGSTOP: the process stops answering anything (heartbeats included) until {@link #resume()}. */
    void pause() {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Resident memory in MiB (Linux /proc). */
    double residentMib() throws IOException {
        return new ProcStat(process.pid()).residentMib();
    }

    /** CPU seconds used so far, user and system (Linux /proc). */
    double cpuSeconds() throws IOException {
        return new ProcStat(process.pid()).cpuSeconds();
    }

    /** Graceful stop (SIGTERM), as an orchestrator would. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
