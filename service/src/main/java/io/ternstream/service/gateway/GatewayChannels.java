package io.ternstream.service.gateway;

import io.smallrye.common.annotation.Identifier;
import io.ternstream.service.kafka.KafkaConnection;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The gateway's Kafka channels (SmallRye Reactive Messaging, Kafka connector) and the part of
 * their configuration that is known only at start: the broker (possibly embedded, on a port chosen
 * then), this replica's reply topic and every partition to assign. The connector reads a map
 * identified by the channel's name as the channel's configuration, below what
 * {@code mp.messaging.*} properties say; it asks when the channels are connected, after
 * {@link Gateway} has created its topics. The static attributes (connector, commit and failure
 * strategies, tracing) are in application.properties; {@link GatewayChannelSwitch} turns the
 * channels off where the role runs no gateway, so none of this is asked for there.
 */
@ApplicationScoped
public class GatewayChannels {
    /** Clients' prompts and commands, keyed by sessionId, to the prompts topic. */
    public static final String PROMPTS = "gateway-prompts";
    /** Ownership claims and tombstones, keyed by sessionId, to the compacted owners topic. */
    public static final String CLAIMS = "gateway-claims";
    /** This replica's reply topic and the shared replies topic, every partition from its end. */
    public static final String REPLIES = "gateway-replies";
    /** The owners topic, every partition from its beginning: the whole table. */
    public static final String OWNERS = "gateway-owners";

    static final List<String> OUTGOING = List.of(PROMPTS, CLAIMS);
    static final List<String> INCOMING = List.of(REPLIES, OWNERS);

    private final Gateway gateway;
    private final KafkaConnection kafka;

    public GatewayChannels(Gateway gateway, KafkaConnection kafka) {
        this.gateway = gateway;
        this.kafka = kafka;
    }

    @Produces
    @Dependent
    @Identifier(PROMPTS)
    Map<String, Object> prompts() {
        return producer(gateway.topics().prompts(), "prompts");
    }

    @Produces
    @Dependent
    @Identifier(CLAIMS)
    Map<String, Object> claims() {
        Map<String, Object> config = producer(gateway.topics().owners(), "claims");
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return config;
    }

    @Produces
    @Dependent
    @Identifier(REPLIES)
    Map<String, Object> replies() {
        GatewayTopics topics = gateway.topics();
        // from the end: a replica serves what is asked of it from now on; resumes read the buffer
        // or ReplyHistory
        Map<String, Object> config = consumer(topics.replyTopics(), -1, "replies");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        return config;
    }

    @Produces
    @Dependent
    @Identifier(OWNERS)
    Map<String, Object> owners() {
        Map<String, Object> config = consumer(List.of(gateway.topics().owners()), 0, "owners");
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return config;
    }

    /** The service's producer settings (idempotent, acks=all, the configured linger: 0 by default). */
    private Map<String, Object> producer(String topic, String purpose) {
        Map<String, Object> config = strings(kafka.producerProperties());
        config.put("topic", topic);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId(purpose));
        return config;
    }

    /**
     * Every partition of the topics assigned, no group joined: replicas never rebalance each
     * other, and nothing is committed (the connector needs a group id; none is used). Offset -1
     * seeks to the end, 0 to the beginning.
     */
    private Map<String, Object> consumer(List<String> topicNames, int seek, String purpose) {
        GatewayTopics topics = gateway.topics();
        Map<String, Object> config = strings(kafka.restoreConsumerProperties());
        config.put("topics", String.join(",", topicNames));
        config.put("assign-seek", topicNames.stream().flatMap(t -> topics.partitionsOf(t).stream())
                .map(tp -> tp.topic() + ":" + tp.partition() + ":" + seek).collect(Collectors.joining(",")));
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "ternstream-gateway-" + gateway.replicaId());
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId(purpose));
        return config;
    }

    private static String clientId(String purpose) {
        return "ternstream-gateway-" + purpose + "-" + ProcessHandle.current().pid();
    }

    /** The connector converts only strings to the types it asks for. */
    private static Map<String, Object> strings(Properties properties) {
        Map<String, Object> config = new HashMap<>();
        properties.forEach((key, value) -> config.put(key.toString(), value.toString()));
        return config;
    }
}
