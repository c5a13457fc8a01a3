package io.ternstream.service.kafka;

import io.ternstream.service.config.ServiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * Where Kafka is: the configured bootstrap servers, or an embedded broker started here. Also the
 * one place client properties are chosen, with the reasons next to them.
 */
@ApplicationScoped
public class KafkaConnection {
    private static final Logger LOG = Logger.getLogger(KafkaConnection.class);

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
        LOG.infof("Kafka at %s; topics %s, %s, %s, %s", bootstrapServers, config.topics().prompts(),
                config.topics().replies(), config.topics().sessionState(), config.topics().deadLetters());
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public boolean embedded() {
        return embedded != null;
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

    /** The prompts consumer: manual commits (after the state write), cooperative rebalancing. */
    public Properties promptConsumerProperties() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.kafka().groupId());
        config.kafka().groupInstanceId().filter(id -> !id.isBlank())
                .ifPresent(id -> p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, id));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        // incremental hand-over: instances keep streaming the partitions they keep during a rebalance
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        int sessionTimeout = (int) config.kafka().sessionTimeout().toMillis();
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, sessionTimeout);
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Math.max(500, sessionTimeout / 5));
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "ternstream-prompts-" + ProcessHandle.current().pid());
        return p;
    }

    /** Reads a partition of the session-state topic from the beginning; never joins the group. */
    public Properties restoreConsumerProperties() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "ternstream-restore-" + ProcessHandle.current().pid());
        return p;
    }

    /**
     * One producer for replies, state, dead letters and fork imports. Idempotent with acks=all, so
     * records of one key stay in order; linger 0 because every token event is latency-critical.
     */
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
