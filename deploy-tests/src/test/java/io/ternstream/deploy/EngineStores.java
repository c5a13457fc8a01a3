package io.ternstream.deploy;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.internals.ProcessorStateManager;

/**
 * The engine role's state stores as its real Kafka Streams topology declares them (built here from
 * the service's EngineTopology, so a store added or renamed there changes what the deployments must
 * declare), the topics each store's task reads (its changelog needs their partition count), and the
 * changelog topic name Kafka Streams gives a store of an application.
 */
final class EngineStores {

    static final String TOPOLOGY = "io.ternstream.service.engine.EngineTopology";
    static final String REPLY_RECORDS = "io.ternstream.service.engine.ReplyRecords";
    static final String TOPICS = "io.ternstream.service.config.ServiceConfig$Topics";

    private EngineStores() {
    }

    /** Store name -> the source topics of the tasks that own it, for the topic names the service is given. */
    static Map<String, Set<String>> sourcesByStore(ServiceSettings config) {
        Map<String, Set<String>> stores = new TreeMap<>();
        for (TopologyDescription.Subtopology sub : build(config).describe().subtopologies()) {
            Set<String> sources = new TreeSet<>();
            Set<String> owned = new TreeSet<>();
            for (TopologyDescription.Node node : sub.nodes()) {
                if (node instanceof TopologyDescription.Source source) {
                    sources.addAll(source.topicSet());
                } else if (node instanceof TopologyDescription.Processor processor) {
                    owned.addAll(processor.stores());
                }
            }
            owned.forEach(store -> stores.put(store, sources));
        }
        if (stores.isEmpty()) {
            throw new AssertionError(TOPOLOGY + " declares no state store");
        }
        return stores;
    }

    /** The changelog topic Kafka Streams creates (or expects) for a store: {@code <application id>-<store>-changelog}. */
    static String changelog(String applicationId, String store) {
        return ProcessorStateManager.storeChangelogTopic(applicationId, store, null);
    }

    /** EngineTopology.build with the service's topic names and a processor that is never run. */
    private static Topology build(ServiceSettings config) {
        try {
            Class<?> topicsType = Class.forName(TOPICS);
            Object topics = Proxy.newProxyInstance(topicsType.getClassLoader(), new Class<?>[] {topicsType},
                    (proxy, method, args) -> topicName(config, method));
            Class<?> replyType = Class.forName(REPLY_RECORDS);
            var replyConstructor = replyType.getDeclaredConstructor(Class.forName("io.ternstream.schemas.MessageCodec"), String.class);
            replyConstructor.setAccessible(true);
            Object replies = replyConstructor.newInstance(
                    Class.forName("io.ternstream.schemas.MessageCodec").getConstructor().newInstance(), config.topic("replies"));
            // Kafka Streams checks that the supplier hands out a new processor on every call
            ProcessorSupplier<String, byte[], String, byte[]> processors = () -> new Processor<>() {
                @Override
                public void process(Record<String, byte[]> record) {
                    throw new UnsupportedOperationException("the topology is only described here");
                }
            };
            Method build = Class.forName(TOPOLOGY).getDeclaredMethod("build", topicsType, ProcessorSupplier.class, replyType);
            build.setAccessible(true);
            return (Topology) build.invoke(null, topics, processors, replies);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot build the engine's topology from " + TOPOLOGY
                    + " (its build method or the types it takes changed)", e);
        }
    }

    private static Object topicName(ServiceSettings config, Method method) {
        return switch (method.getName()) {
            case "prompts" -> config.topic("prompts");
            case "replies" -> config.topic("replies");
            case "deadLetters" -> config.topic("dead-letters");
            case "toString" -> "the service's topics";
            default -> throw new UnsupportedOperationException("the topology asks for topics." + method.getName()
                    + ", which EngineStores does not supply");
        };
    }
}
