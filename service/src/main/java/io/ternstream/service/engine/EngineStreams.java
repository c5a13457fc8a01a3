package io.ternstream.service.engine;

import io.ternstream.engine.Engine;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.kafka.KafkaConnection;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import io.ternstream.service.session.CommandDecoder;
import io.ternstream.service.session.SessionCore;
import io.ternstream.service.session.SessionRecordCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.jboss.logging.Logger;

/**
 * The engine role: the engine loop (one thread stepping every session of the instance) and the
 * Kafka Streams application around it (prompts in, replies out, session stores with changelogs,
 * standbys, exactly-once when configured). Starts them in order and stops them in reverse: new
 * work stops, running turns finish (up to the drain timeout), then Streams commits and leaves the
 * group so the partitions move at once.
 */
public final class EngineStreams implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EngineStreams.class);

    private final ServiceConfig config;
    private final EngineLoop loop = new EngineLoop();
    private final KafkaStreams streams;
    private final GroupLease lease;
    private final Runnable warmup;
    /** The stores' folder when none is configured: this process's own, removed once Streams has closed. */
    private final Path temporaryStateDir;

    public EngineStreams(ServiceConfig config, Engine engine, Properties streamsProps, Admin admin, ServiceMetrics metrics,
                         Tracing tracing) {
        this.config = config;
        MessageCodec codec = new MessageCodec();
        SessionRecordCodec records = new SessionRecordCodec(codec);
        Set<String> knownTopics = ConcurrentHashMap.newKeySet();
        var decoder = new CommandDecoder(codec, config.limits(), engine.config().vocabSize(), engine.tokenizer(),
                topic -> knownTopics.contains(topic) || refreshTopics(admin, knownTopics).contains(topic));
        var replies = new ReplyRecords(codec, config.topics().replies());
        loop.start(effects -> new SessionCore(engine, config.scheduler(), config.generation(), effects, records, metrics,
                tracing, System::currentTimeMillis));
        BoundedStoreMemory.configure(config.scheduler().storeMemory());
        Duration sessionTimeout = config.kafka().sessionTimeout();
        this.lease = new GroupLease(GroupLease.expiry(sessionTimeout, KafkaConnection.heartbeatInterval(sessionTimeout)),
                System.nanoTime());
        var topology = EngineTopology.build(config.topics(), () -> new PromptTopicProcessor(loop, decoder, records, replies,
                config.scheduler().pollInterval(), config.scheduler().sessionTtl(), metrics, config.topics().prompts(), lease,
                FinishedWork.delay(config.delivery() == ServiceConfig.Delivery.EXACTLY_ONCE, config.scheduler().commitInterval())),
                replies);
        this.temporaryStateDir = streamsProps.containsKey(StreamsConfig.STATE_DIR_CONFIG) ? null : temporaryFolder();
        if (temporaryStateDir != null) {
            streamsProps.put(StreamsConfig.STATE_DIR_CONFIG, temporaryStateDir.toString());
        }
        this.streams = new KafkaStreams(topology, streamsProps,
                new PacedClients(loop::quiet, config.scheduler().pollInterval(), lease));
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("the Kafka thread failed; replacing it (its partitions are taken up again)", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.setGlobalStateRestoreListener(new RestoreLog(metrics));
        this.warmup = () -> Warmup.run(engine, decoder, replies, codec, config.scheduler().warmup());
    }

    /** replyTo topics are checked once against the broker's list, so a typo cannot block the producer. */
    private static Set<String> refreshTopics(Admin admin, Set<String> known) {
        try {
            known.addAll(admin.listTopics().names().get(5, TimeUnit.SECONDS));
        } catch (Exception e) {
            // unknown stays unknown: the prompt is rejected, not the loop stalled
        }
        return known;
    }

    /** Warms the first-token path up (bounded by ternstream.scheduler.warmup), then joins the group. */
    public void start() {
        warmup.run();
        lease.start();
        streams.start();
    }

    /** Liveness: the engine thread runs and Streams has not failed for good. */
    public boolean alive() {
        KafkaStreams.State state = streams.state();
        return loop.alive() && state != KafkaStreams.State.ERROR && state != KafkaStreams.State.PENDING_ERROR
                && state != KafkaStreams.State.NOT_RUNNING;
    }

    /** Readiness: assigned partitions are restored and served (or a rebalance is under way). */
    public boolean serving() {
        KafkaStreams.State state = streams.state();
        return state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING;
    }

    @Override
    public void close() throws InterruptedException {
        Duration drain = config.scheduler().drainTimeout();
        if (!loop.drain(drain.toMillis())) {
            LOG.warnf("turns still running after %s; the partitions' next owners redo them", drain);
        }
        // the drain's last effects reach Kafka in the final commit that close() makes
        streams.close(new KafkaStreams.CloseOptions().leaveGroup(true).timeout(Duration.ofSeconds(30)));
        loop.stop();
        lease.close();
        if (temporaryStateDir != null) {
            deleteTree(temporaryStateDir);
        }
    }

    private static Path temporaryFolder() {
        try {
            return Files.createTempDirectory("ternstream-state-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a folder for the session stores", e);
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | RuntimeException e) {
            LOG.debugf("temporary state folder %s not removed: %s", dir, e.getMessage());
        }
    }

    /** Logs and counts what each store partition restored from its changelog. */
    private record RestoreLog(ServiceMetrics metrics) implements StateRestoreListener {
        @Override
        public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
            LOG.infof("restoring %s of %s: changelog offsets %d to %d", store, partition, start, end);
        }

        @Override
        public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long restored) {
            metrics.restored(restored);
        }

        @Override
        public void onRestoreEnd(TopicPartition partition, String store, long total) {
            LOG.infof("restored %s of %s: %d records", store, partition, total);
        }
    }
}
