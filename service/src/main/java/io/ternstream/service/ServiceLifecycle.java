package io.ternstream.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.kafka.KafkaConnection;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import io.ternstream.service.engine.EngineStreams;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Starts the parts in order (Kafka and topics, the model, the engine role) and stops them in
 * reverse: running turns finish and Streams commits before the broker stops.
 */
@ApplicationScoped
public class ServiceLifecycle {
    private static final Logger LOG = Logger.getLogger(ServiceLifecycle.class);

    /** The model served when none is configured, under ternstream.home (the gateway names it too). */
    public static final String DEFAULT_MODEL = EngineOptions.BUNDLED_MODEL;

    private final ServiceConfig config;
    private final KafkaConnection kafka;
    private final MeterRegistry registry;
    private final OpenTelemetry openTelemetry;
    private final String home;
    private volatile Engine engine;
    private volatile EngineStreams runtime;
    private volatile ServiceMetrics metrics;

    public ServiceLifecycle(ServiceConfig config, KafkaConnection kafka, MeterRegistry registry,
                            OpenTelemetry openTelemetry) {
        this.config = config;
        this.kafka = kafka;
        this.registry = registry;
        this.openTelemetry = openTelemetry;
        this.home = config.home();
    }

    void onStart(@Observes @Priority(10) StartupEvent event) throws Exception {
        kafka.start();
        if (!config.role().runsEngine()) {
            LOG.info("role gateway: no model, no prompt consumer");
            return;
        }
        Path modelDir = modelDir();
        long t0 = System.nanoTime();
        engine = Engine.open(modelDir, config.model().threads() > 0
                ? new EngineOptions(config.model().threads()) : EngineOptions.defaults());
        LOG.infof("model %s loaded from %s in %d ms (fingerprint %s, vocabulary %d, tokenizer %s)", engine.modelName(),
                modelDir, (System.nanoTime() - t0) / 1_000_000, engine.fingerprint(), engine.config().vocabSize(),
                engine.tokenizer().isPresent() ? "yes" : "none: token-id prompts only");
        metrics = new ServiceMetrics(registry);
        runtime = new EngineStreams(config, engine, kafka.streamsProperties(), kafka.admin(), metrics, new Tracing(openTelemetry));
        runtime.start();
        LOG.infof("engine role started: prompts from %s, replies to %s, delivery %s", config.topics().prompts(),
                config.topics().replies(), config.delivery());
    }

    private Path modelDir() throws IOException {
        Optional<String> configured = config.model().dir().filter(s -> !s.isBlank());
        Path dir = configured.map(Path::of).orElse(Path.of(home).resolve(DEFAULT_MODEL));
        if (!Files.isDirectory(dir)) {
            throw new IOException(configured.isPresent()
                    ? "model folder " + dir + " does not exist"
                    : "no model: the bundled " + DEFAULT_MODEL + " is not there; pass --model DIR");
        }
        return dir;
    }

    void onStop(@Observes @Priority(10) ShutdownEvent event) {
        try {
            if (runtime != null) {
                runtime.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (engine != null) {
            engine.close();
        }
        kafka.close();
    }

    public boolean modelLoaded() {
        return engine != null;
    }

    public boolean engineLoopAlive() {
        return runtime != null && runtime.alive();
    }

    /** The engine role's partitions are restored and served. */
    public boolean engineServing() {
        return runtime != null && runtime.serving();
    }

    public ServiceConfig config() {
        return config;
    }
}
