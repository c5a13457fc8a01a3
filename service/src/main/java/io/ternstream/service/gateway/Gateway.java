package io.ternstream.service.gateway;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.KafkaConnector;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.ternstream.engine.tokenizer.TextTokenizer;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.service.ServiceLifecycle;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.kafka.KafkaConnection;
import io.vertx.core.Vertx;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.spi.Connector;
import org.jboss.logging.Logger;

/**
 * The gateway role: its topics, its Kafka channels and what the WebSocket and HTTP front ends
 * share. Starts in two steps around the messaging start-up: first (after the service's lifecycle
 * has connected to or started Kafka) it creates its topics, which the channels' configuration
 * needs; then, once the connector has connected the channels, it waits until the reply consumer
 * stands at the end of its topics and the ownership table is loaded, and only then serves.
 */
@ApplicationScoped
public class Gateway {
    private static final Logger LOG = Logger.getLogger(Gateway.class);
    private static final long SWEEP_EVERY_MILLIS = 30_000;
    private static final long IDLE_SESSION_MILLIS = 15 * 60_000;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final ServiceConfig service;
    private final GatewayConfig config;
    private final KafkaConnection kafka;
    private final ApiKeys keys;
    private final GatewayPublisher publisher;
    private final Instance<OwnersReader> ownersReader;
    private final Instance<KafkaClientService> clients;
    private final Instance<KafkaConnector> connector;
    private final Vertx vertx;
    private final String home;
    private final MessageCodec codec = new MessageCodec();
    private final ReplyHub hub;
    private final SessionOwners owners;
    private volatile GatewayTopics topics;
    private volatile ReplyHistory history;
    private volatile ClientMessagePolicy policy;
    private volatile Optional<TextTokenizer> tokenizer = Optional.empty();
    private volatile boolean serving;

    public Gateway(ServiceConfig service, GatewayConfig config, KafkaConnection kafka, ApiKeys keys,
                   GatewayPublisher publisher, Instance<OwnersReader> ownersReader,
                   Instance<KafkaClientService> clients,
                   @Connector(KafkaConnector.CONNECTOR_NAME) Instance<KafkaConnector> connector, Vertx vertx,
                   @ConfigProperty(name = "ternstream.home", defaultValue = ".") String home) {
        this.service = service;
        this.config = config;
        this.kafka = kafka;
        this.keys = keys;
        this.publisher = publisher;
        this.ownersReader = ownersReader;
        this.clients = clients;
        this.connector = connector;
        this.vertx = vertx;
        this.home = home;
        this.hub = new ReplyHub(config.resumeBufferEvents());
        this.owners = new SessionOwners(publisher::owner);
    }

    /** Before the channels connect: the topics they will be configured with. */
    void createTopics(@Observes @Priority(20) StartupEvent event) throws Exception {
        if (!service.role().runsGateway()) {
            return;
        }
        String replyTopic = service.topics().replies() + ".gw-" + replicaId();
        createTopics(replyTopic);
        List<String> described = List.of(replyTopic, service.topics().replies(), config.ownersTopic());
        topics = new GatewayTopics(replyTopic, service.topics().replies(), config.ownersTopic(),
                service.topics().prompts(), partitionCounts(described));
        history = new ReplyHistory(historyConsumerProperties(), codec, topics);
        policy = new ClientMessagePolicy(owners, replyTopic);
        tokenizer = loadTokenizer();
    }

    /**
     * After the connector has connected the channels (messaging starts at priority 1000): serve
     * once the reply consumer's positions are fixed at the end of its topics (a reply written
     * after that is read) and the owners topic has been read up to where it ended now.
     */
    void startServing(@Observes @Priority(1500) StartupEvent event) throws Exception {
        if (!service.role().runsGateway()) {
            return;
        }
        awaitReplyPositions();
        Map<Integer, Long> start = ownerOffsets(OffsetSpec.earliest());
        ownersReader.get().catchUp().readUpTo(start, ownerOffsets(OffsetSpec.latest()));
        ownersReader.get().catchUp().done().get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        owners.markCaughtUp();
        vertx.setPeriodic(SWEEP_EVERY_MILLIS, id -> hub.sweep(IDLE_SESSION_MILLIS));
        serving = true;
        LOG.infof("gateway started: replies on %s, model '%s', API keys %s", topics.replicaReplies(), modelName(),
                keys.misconfigured() ? "REQUIRED BUT NONE CONFIGURED: every request is refused; set "
                        + "ternstream.gateway.security.api-key-hashes" : keys.required() ? "required"
                        : "not configured (open access)");
    }

    /**
     * Closes the channels' Kafka clients before the service's lifecycle stops the embedded broker
     * (priority 10); the connector would close them only after every shutdown observer, and they
     * would spend seconds retrying a broker that is gone.
     */
    void stopChannels(@Observes @Priority(5) ShutdownEvent event) {
        if (!service.role().runsGateway()) {
            return;
        }
        serving = false;
        connector.get().terminate(event);
    }

    /** Asks the reply consumer for its positions, which resolves its seeks to the end now. */
    private void awaitReplyPositions() {
        int expected = topics.replyTopics().stream().mapToInt(t -> topics.partitionsOf(t).size()).sum();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        KafkaConsumer<Object, Object> consumer = clients.get().getConsumer(GatewayChannels.REPLIES);
        if (consumer == null) {
            throw new IllegalStateException("the channel " + GatewayChannels.REPLIES + " has no consumer: is it "
                    + "disabled while ternstream.role runs the gateway?");
        }
        while (consumer.getPositions().await().atMost(START_TIMEOUT).size() < expected) {
            // the assignment is made on the consumer's polling thread once the channel is subscribed
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the reply consumer was not assigned its partitions within "
                        + START_TIMEOUT);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private Map<Integer, Long> ownerOffsets(OffsetSpec spec) throws Exception {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        topics.partitionsOf(topics.owners()).forEach(tp -> request.put(tp, spec));
        Map<Integer, Long> offsets = new HashMap<>();
        kafka.admin().listOffsets(request).all().get(30, TimeUnit.SECONDS)
                .forEach((tp, info) -> offsets.put(tp.partition(), info.offset()));
        return offsets;
    }

    /** Ready to take requests: the channels are connected and the ownership table is loaded. */
    public boolean enabled() {
        return serving;
    }

    public ReplyHub hub() {
        return hub;
    }

    public SessionOwners owners() {
        return owners;
    }

    /** What clients may send, for the front ends that forward client JSON. */
    public ClientMessagePolicy policy() {
        return policy;
    }

    public String replyTopic() {
        return topics == null ? null : topics.replicaReplies();
    }

    GatewayTopics topics() {
        return topics;
    }

    public MessageCodec codec() {
        return codec;
    }

    /** Prompt length and max_tokens bounds, shared with the engine role. */
    ServiceConfig.Limits requestLimits() {
        return service.limits();
    }

    public GatewayConfig config() {
        return config;
    }

    /** The gateway's copy of the model's tokenizer, for counting prompt tokens; empty if it has none. */
    public Optional<TextTokenizer> tokenizer() {
        return tokenizer;
    }

    /** The session's events still in the reply topics (within the reply retention). */
    public CompletableFuture<List<Reply>> history(String sessionId) {
        return history.read(sessionId, System.currentTimeMillis() - config.replyRetention().toMillis());
    }

    /**
     * Produces a client's message to the prompts topic. Only client types pass: whatever a front
     * end builds, the engines' internal messages never leave the gateway.
     */
    public CompletableFuture<Void> send(PromptTopicMessage message) {
        if (!ClientMessagePolicy.isClientType(message)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("the gateway sends no '"
                    + ClientMessagePolicy.typeName(message) + "' messages"));
        }
        return publisher.prompt(message.sessionId(), codec.encode(message));
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

    /** The replica's id as it appears in topic and group names. */
    String replicaId() {
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

    private void createTopics(String replyTopic) throws Exception {
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

    private Map<String, Integer> partitionCounts(List<String> topics) throws Exception {
        Map<String, Integer> counts = new HashMap<>();
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
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }

    private Properties historyConsumerProperties() {
        Properties p = kafka.restoreConsumerProperties();
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "ternstream-gateway-history-" + ProcessHandle.current().pid());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        return p;
    }
}
