package io.ternstream.service.engine;

import io.ternstream.service.config.ServiceConfig;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.Stores;

/**
 * The engine role's Kafka Streams topology: the prompts topic into one processor per partition,
 * which owns two persistent stores (each with a compacted changelog topic, restored from a local
 * checkpoint and kept warm on standbys), and writes to three sinks.
 * <pre>
 * prompts ──▶ sessions processor ──▶ replies (or a prompt's replyTo)
 *              │ sessions store        dead letters
 *              │ pending store         prompts (fork imports, keyed by the target session)
 * </pre>
 */
final class EngineTopology {
    /** sessionId → session record (schemas/session-store.md). Changelog: {application id}-sessions-changelog. */
    static final String SESSIONS_STORE = "sessions";
    /** prompts offset → accepted record not yet finished. Changelog: {application id}-pending-changelog. */
    static final String PENDING_STORE = "pending";
    static final String SOURCE = "prompts-in";
    static final String PROCESSOR = "sessions";
    static final String REPLIES_SINK = "replies-out";
    static final String DEAD_LETTERS_SINK = "dead-letters-out";
    static final String PROMPTS_SINK = "fork-imports-out";

    /**
     * Configs of the changelogs when Kafka Streams creates them: a record holds a whole session state
     * (or a whole prompt), as large as the engine's producer sends (8 MiB); compacted by Streams.
     */
    private static final Map<String, String> CHANGELOG = Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "8388608");

    private EngineTopology() {}

    static Topology build(ServiceConfig.Topics topics, ProcessorSupplier<String, byte[], String, byte[]> processor,
                          ReplyRecords replies) {
        Topology topology = new Topology();
        topology.addSource(SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), topics.prompts());
        topology.addProcessor(PROCESSOR, processor, SOURCE);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SESSIONS_STORE),
                Serdes.String(), Serdes.ByteArray()).withCachingEnabled().withLoggingEnabled(CHANGELOG), PROCESSOR);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PENDING_STORE),
                Serdes.Long(), Serdes.ByteArray()).withCachingEnabled().withLoggingEnabled(CHANGELOG), PROCESSOR);
        topology.addSink(REPLIES_SINK, replies, new StringSerializer(), new ByteArraySerializer(), PROCESSOR);
        topology.addSink(DEAD_LETTERS_SINK, topics.deadLetters(), new StringSerializer(), new ByteArraySerializer(), PROCESSOR);
        topology.addSink(PROMPTS_SINK, topics.prompts(), new StringSerializer(), new ByteArraySerializer(), PROCESSOR);
        return topology;
    }
}
