package io.ternstream.service.kafka;

import io.ternstream.service.config.ServiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import io.ternstream.service.engine.BoundedStoreMemory;
import org.jboss.logging.Logger;

/**
 * Where Kafka is: the configured bootstrap servers, or an embedded broker started here. Also the
 * one place client properties are chosen, with the reasons next to them.
 */
@ApplicationScoped
public class KafkaConnection {
    private static final Logger LOG = Logger.getLogger(KafkaConnection.class);

    private static final long IDLE_POLL_MILLIS = 100;

    private final ServiceConfig config;
    private volatile EmbeddedKafkaBroker embedded;
    private volatile String bootstrapServers;
    private volatile Admin admin;

    public KafkaConnection(ServiceConfig config) {
        this.config = config;
    }

    /** Starts the embedded broker if needed and creates the topics. Called once at startup. */
    public synchronized void start() throws Exception {
        if (bootstrapServers != null) {
            return;
        }
        var configured = config.kafka().bootstrapServers().filter(s -> !s.isBlank());
        if (configured.isPresent()) {
            bootstrapServers = configured.get();
        } else {
            embedded = EmbeddedKafkaBroker.start(config.kafka().embedded().port(),
                    config.kafka().embedded().dataDir().map(Path::of).orElse(null));
            bootstrapServers = embedded.bootstrapServers();
        }
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
        TopicSetup.ensureTopics(admin, config.topics());
        LOG.infof("Kafka at %s; topics %s, %s, %s", bootstrapServers, config.topics().prompts(),
                config.topics().replies(), config.topics().deadLetters());
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Readiness probe: can we reach a broker within the timeout? */
    public boolean reachable(long timeoutMillis) {
        Admin a = admin;
        if (a == null) {
            return false;
        }
        try {
            a.describeCluster().nodes().get(timeoutMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    public Admin admin() {
        return admin;
    }

    /**
     * The engine role's Kafka Streams application. Its application id is the consumer group
     * ({@code ternstream.kafka.group-id}) and the prefix of its changelog topics.
     */
    public Properties streamsProperties() {
        Properties p = new Properties();
        var kafka = config.kafka();
        var scheduler = config.scheduler();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, kafka.groupId());
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.delivery() == ServiceConfig.Delivery.EXACTLY_ONCE
                ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
        // one Kafka thread: the engine loop steps every session of the instance together anyway
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, kafka.standbyReplicas());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, scheduler.commitInterval().toMillis());
        // the longest wait for records while the engine is quiet; while it works, PacedClients waits poll-interval
        p.put(StreamsConfig.POLL_MS_CONFIG, IDLE_POLL_MILLIS);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, scheduler.stateCache());
        p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedStoreMemory.class.getName());
        // without a configured folder, EngineStreams uses a temporary one of its own
        kafka.stateDir().filter(s -> !s.isBlank()).ifPresent(dir -> p.put(StreamsConfig.STATE_DIR_CONFIG, dir));
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.topics().replicationFactor());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), (int) kafka.sessionTimeout().toMillis());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
                (int) heartbeatInterval(kafka.sessionTimeout()).toMillis());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 200);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 50);
        kafka.groupInstanceId().filter(id -> !id.isBlank())
                .ifPresent(id -> p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), id));
        // every token event is latency-critical: sent at once, not batched for the linger
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), (int) kafka.producerLinger().toMillis());
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), 8 * 1024 * 1024);
        p.put(StreamsConfig.CLIENT_ID_CONFIG, "ternstream-engine-" + ProcessHandle.current().pid());
        return p;
    }

    /** A fifth of the session timeout, at least half a second. */
    public static Duration heartbeatInterval(Duration sessionTimeout) {
        return Duration.ofMillis(Math.max(500, sessionTimeout.toMillis() / 5));
    }

    /** A consumer that assigns partitions itself and never joins a group (the gateway's readers). */
    public Properties restoreConsumerProperties() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        // replies of an exactly-once engine count only once committed (aborted ones are never seen)
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "ternstream-reader-" + ProcessHandle.current().pid());
        return p;
    }

    /** Idempotent with acks=all, so records of one key stay in order; linger 0: every message is latency-critical. */
    public Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, (int) config.kafka().producerLinger().toMillis());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "ternstream-out-" + ProcessHandle.current().pid());
        return p;
    }

    public synchronized void close() {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(5));
            admin = null;
        }
        if (embedded != null) {
            embedded.close();
            embedded = null;
        }
    }
}
