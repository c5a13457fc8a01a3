package io.ternstream.it;

import static org.awaitility.Awaitility.await;

import io.ternstream.service.kafka.EmbeddedKafkaBroker;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A single-node KRaft broker (Apache Kafka's own {@code kafka.Kafka}) as a child JVM with a fixed
 * data folder and fixed ports, so a test can stop and restart it and clients find it where it was.
 *
 * <p>Besides the plain listener for test clients it has one listener per <em>route</em>: route i
 * listens on its own port and advertises another one (where a {@link StallableProxy} forwards to
 * it). A client that bootstraps at that advertised port is told to connect there for everything, so
 * all of its connections go through its proxy and a test can cut one instance off the broker.
 */
final class KafkaServerProcess implements AutoCloseable {
    private static final Path LOGS = Path.of(System.getProperty("ternstream.it.logs", "target/it-logs"));

    /** A listener of its own for one client: the broker binds {@code port}, and tells clients {@code advertisedPort}. */
    record Route(String listener, int port, int advertisedPort) {}

    private final Path dataDir;
    private final Path config;
    private final Path logging;
    private final int clientPort;
    private final List<Route> routes;
    private final LongConsumer launched;
    private Process process;
    private int starts;

    private KafkaServerProcess(Path dataDir, int clientPort, List<Route> routes, LongConsumer launched) {
        this.dataDir = dataDir;
        this.config = dataDir.resolveSibling(dataDir.getFileName() + ".properties");
        this.logging = dataDir.resolveSibling(dataDir.getFileName() + "-logging.properties");
        this.clientPort = clientPort;
        this.routes = List.copyOf(routes);
        this.launched = launched;
    }

    /**
     * Formats a fresh data folder and starts the broker. {@code advertisedPorts}: one route per entry,
     * the port its clients bootstrap at; {@code launched} hears the pid of every start.
     */
    static KafkaServerProcess start(Path dataDir, List<Integer> advertisedPorts, LongConsumer launched) throws IOException {
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < advertisedPorts.size(); i++) {
            routes.add(new Route("ROUTE" + (i + 1), freePort(), advertisedPorts.get(i)));
        }
        KafkaServerProcess broker = new KafkaServerProcess(dataDir, freePort(), routes, launched);
        broker.writeConfig(freePort());
        broker.format();
        broker.launch();
        return broker;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + clientPort;
    }

    List<Route> routes() {
        return routes;
    }

    private void writeConfig(int controllerPort) throws IOException {
        Files.createDirectories(dataDir);
        Properties p = EmbeddedKafkaBroker.singleNodeProperties(dataDir, clientPort, controllerPort);
        // one more listener per engine, each behind its own stallable proxy
        p.put("listeners", p.get("listeners")
                + routes.stream().map(r -> "," + r.listener() + "://127.0.0.1:" + r.port()).collect(Collectors.joining()));
        p.put("advertised.listeners", p.get("advertised.listeners")
                + routes.stream().map(r -> "," + r.listener() + "://127.0.0.1:" + r.advertisedPort()).collect(Collectors.joining()));
        p.put("listener.security.protocol.map", p.get("listener.security.protocol.map")
                + routes.stream().map(r -> "," + r.listener() + ":PLAINTEXT").collect(Collectors.joining()));
        // small segments, so compaction keeps the changelogs at about one record per key during a long run
        p.put("log.segment.bytes", Integer.toString(1024 * 1024));
        try (var out = Files.newBufferedWriter(config)) {
            p.store(out, "single-node KRaft broker of the integration tests");
        }
        // warnings, and when the server starts and stops
        Files.writeString(logging, """
                logger.level=WARN
                logger.handlers=CONSOLE
                loggers=kafka.server.KafkaRaftServer,kafka.server.BrokerServer
                logger.kafka.server.KafkaRaftServer.level=INFO
                logger.kafka.server.BrokerServer.level=INFO
                handler.CONSOLE=org.jboss.logmanager.handlers.ConsoleHandler
                handler.CONSOLE.formatter=PATTERN
                formatter.PATTERN=org.jboss.logmanager.formatters.PatternFormatter
                formatter.PATTERN.properties=pattern
                formatter.PATTERN.pattern=%d{HH:mm:ss.SSS} %-5p [%c{2.}] %s%e%n
                """);
    }

    private void format() throws IOException {
        Process tool = java(List.of(), "kafka.tools.StorageTool", "format", "--config", config.toString(),
                "--cluster-id", Uuid.randomUuid().toString())
                .redirectOutput(LOGS.resolve(dataDir.getFileName() + "-format.log").toFile()).start();
        try {
            if (!tool.waitFor(120, TimeUnit.SECONDS) || tool.exitValue() != 0) {
                tool.destroyForcibly();
                throw new IOException("formatting " + dataDir + " failed: see " + LOGS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private void launch() throws IOException {
        starts++;
        // the classes the first start loads are archived when it exits: a restart boots in about a third of the time
        Path classes = dataDir.resolveSibling(dataDir.getFileName() + ".jsa");
        Process started = java(List.of("-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=" + classes),
                "kafka.Kafka", config.toString())
                .redirectOutput(LOGS.resolve(dataDir.getFileName() + "-" + starts + ".log").toFile()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
        process = started;
        launched.accept(started.pid());
        // listeners accept connections before the broker serves requests: wait until it answers one
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            await("broker " + dataDir.getFileName() + " serving").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(200)).failFast(() -> !process.isAlive()).ignoreExceptions()
                    .until(() -> !admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty()
                            && routes.stream().allMatch(r -> answers(r.port())));
        }
    }

    /**
     * The jars of the test's classpath, which carry Kafka's server: failsafe's forked JVM runs from a
     * manifest-only jar and names the real classpath in a property. Jars only, because the class data
     * archive refuses non-empty folders.
     */
    private static String serverClassPath() {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Arrays.stream(classPath.split(File.pathSeparator)).filter(entry -> entry.endsWith(".jar"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    /** A JVM for one of Kafka's main classes. */
    private ProcessBuilder java(List<String> jvmOptions, String mainClass, String... args) throws IOException {
        Files.createDirectories(LOGS);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
                "-Dslf4j.provider=org.slf4j.impl.JBossSlf4jServiceProvider", "-Dlogging.configuration=file:" + logging));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", serverClassPath(), mainClass));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true);
    }

    private static boolean answers(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Graceful stop (SIGTERM: controlled shutdown), then a start on the same data and ports. */
    void restart() {
        stop();
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long pid() {
        return process.pid();
    }

    private void stop() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            stop();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
