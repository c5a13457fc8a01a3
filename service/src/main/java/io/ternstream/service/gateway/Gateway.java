package io.ternstream.service.gateway;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.ternstream.engine.tokenizer.TextTokenizer;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.service.ServiceLifecycle;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.kafka.KafkaConnection;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The gateway role: its reply topic, its Kafka link and what the WebSocket and HTTP front ends
 * share. Starts after the service's lifecycle has connected to (or started) Kafka.
 */
@ApplicationScoped
public class Gateway {
    private static final Logger LOG = Logger.getLogger(Gateway.class);

    private final ServiceConfig service;
    private final GatewayConfig config;
    private final KafkaConnection kafka;
    private final String home;
    private final MessageCodec codec = new MessageCodec();
    private volatile ReplyHub hub;
    private volatile GatewayKafka link;
    private volatile ClientMessagePolicy policy;
    private volatile String replyTopic;
    private volatile Optional<TextTokenizer> tokenizer = Optional.empty();

    private final ApiKeys keys;

    public Gateway(ServiceConfig service, GatewayConfig config, KafkaConnection kafka, ApiKeys keys,
                   @ConfigProperty(name = "ternstream.home", defaultValue = ".") String home) {
        this.keys = keys;
        this.service = service;
        this.config = config;
        this.kafka = kafka;
        this.home = home;
    }

    void onStart(@Observes @Priority(20) StartupEvent event) throws Exception {
        if (!service.role().runsGateway()) {
            return;
        }
        replyTopic = service.topics().replies() + ".gw-" + replicaId();
        createTopics();
        tokenizer = loadTokenizer();
        hub = new ReplyHub(config.resumeBufferEvents());
        List<String> replyTopics = List.of(replyTopic, service.topics().replies());
        link = new GatewayKafka(producerProperties(), consumerProperties(), codec, hub, service.topics().prompts(),
                config.ownersTopic(), replyTopics, partitionCounts(replyTopics));
        link.start();
        policy = new ClientMessagePolicy(link.owners(), replyTopic);
        link.owners().ready().get(60, TimeUnit.SECONDS);
        LOG.infof("gateway started: replies on %s, model '%s', API keys %s", replyTopic, modelName(),
                keys.misconfigured() ? "REQUIRED BUT NONE CONFIGURED: every request is refused; set "
                        + "ternstream.gateway.security.api-key-hashes" : keys.required() ? "required"
                        : "not configured (open access)");
    }

    void onStop(@Observes @Priority(5) ShutdownEvent event) {
        if (link != null) {
            link.close();
        }
    }

    public boolean enabled() {
        return link != null;
    }

    public boolean alive() {
        return link != null && link.alive();
    }

    public ReplyHub hub() {
        return hub;
    }

    public SessionOwners owners() {
        return link.owners();
    }

    /** What clients may send, for the front ends that forward client JSON. */
    public ClientMessagePolicy policy() {
        return policy;
    }

    public String replyTopic() {
        return replyTopic;
    }

    public MessageCodec codec() {
        return codec;
    }

    public GatewayConfig config() {
        return config;
    }

    /** The gateway's copy of the model's tokenizer, for counting prompt tokens; empty if it has none. */
    public Optional<TextTokenizer> tokenizer() {
        return tokenizer;
    }

    /** The session's events still in the reply topics (within the reply retention). */
    public CompletableFuture<java.util.List<Reply>> history(String sessionId) {
        return link.history(sessionId, System.currentTimeMillis() - config.replyRetention().toMillis());
    }

    /**
     * Produces a client's message to the prompts topic. Only client types pass: whatever a front
     * end builds, the engines' internal messages never leave the gateway.
     */
    public CompletableFuture<RecordMetadata> send(PromptTopicMessage message) {
        if (!ClientMessagePolicy.isClientType(message)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("the gateway sends no '"
                    + ClientMessagePolicy.typeName(message) + "' messages"));
        }
        return link.send(message);
    }

    public String modelName() {
        return config.modelName().orElseGet(() -> modelDir().getFileName().toString());
    }

    private Path modelDir() {
        return service.model().dir().filter(s -> !s.isBlank()).map(Path::of)
                .orElse(Path.of(home).resolve(ServiceLifecycle.DEFAULT_MODEL)).toAbsolutePath().normalize();
    }

    private Optional<TextTokenizer> loadTokenizer() {
        Path json = modelDir().resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            return Optional.empty();
        }
        try {
            return Optional.of(TextTokenizer.load(json));
        } catch (IOException e) {
            LOG.warnf("gateway: cannot load %s (%s); prompt tokens are counted by the engine only", json,
                    e.getMessage());
            return Optional.empty();
        }
    }

    private String replicaId() throws IOException {
        String id = config.replicaId().filter(s -> !s.isBlank())
                .orElseGet(() -> Optional.ofNullable(System.getenv("HOSTNAME")).filter(s -> !s.isBlank())
                        .orElseGet(Gateway::hostName));
        return id.replaceAll("[^A-Za-z0-9._-]", "-");
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "local";
        }
    }

    private void createTopics() throws Exception {
        int partitions = service.topics().partitions();
        Optional<Short> rf = service.topics().replicationFactor() > 0
                ? Optional.of(service.topics().replicationFactor()) : Optional.empty();
        var replies = new NewTopic(replyTopic, Optional.of(partitions), rf).configs(Map.of(
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(config.replyRetention().toMillis())));
        var owners = new NewTopic(config.ownersTopic(), Optional.of(partitions), rf).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        for (NewTopic topic : List.of(replies, owners)) {
            try {
                kafka.admin().createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }

    private Map<String, Integer> partitionCounts(List<String> replyTopics) throws Exception {
        List<String> topics = new java.util.ArrayList<>(replyTopics);
        topics.add(config.ownersTopic());
        Map<String, Integer> counts = new java.util.HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                kafka.admin().describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS)
                        .forEach((name, description) -> counts.put(name, description.partitions().size()));
                return counts;
            } catch (ExecutionException e) {
                // a topic created a moment ago may not be known to every broker yet: ask again shortly
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }

    private Properties producerProperties() {
        Properties p = kafka.producerProperties();
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "ternstream-gateway-" + ProcessHandle.current().pid());
        return p;
    }

    private Properties consumerProperties() {
        Properties p = kafka.restoreConsumerProperties();
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "ternstream-gateway-replies-" + ProcessHandle.current().pid());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        // fetch.min.bytes=1: the broker answers a fetch as soon as one event is there
        return p;
    }
}
