package io.ternstream.service.api;

import io.quarkus.runtime.ShutdownEvent;
import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.kafka.KafkaConnection;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Reception;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * {@link SessionBus} over Kafka, connected on first use. One reader thread per instance assigns itself
 * every partition of the replies topic (no consumer group: every replica must see the events of its
 * own subscribers) starting at the end, and fans events out by record key to the subscribers.
 */
@ApplicationScoped
public class KafkaSessionBus implements SessionBus {
    private static final Logger LOG = Logger.getLogger(KafkaSessionBus.class);

    private final ServiceConfig config;
    private final KafkaConnection kafka;
    private final MessageCodec codec = new MessageCodec();
    private final Map<String, List<Listener>> listeners = new ConcurrentHashMap<>();
    private volatile KafkaProducer<String, byte[]> producer;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Thread reader;
    private volatile boolean running;
    private boolean stopped;

    /** A subscriber and the (requestId, seq) pairs it has seen. */
    private final class Listener implements Subscription {
        final String sessionId;
        final Consumer<ReplyEvent> sink;
        final Set<String> seen = new HashSet<>();

        Listener(String sessionId, Consumer<ReplyEvent> sink) {
            this.sessionId = sessionId;
            this.sink = sink;
        }

        void offer(ReplyEvent event) {
            if (seen.add(event.requestId() + '\u0000' + event.seq())) {
                sink.accept(event);
            }
        }

        @Override
        public void close() {
            listeners.computeIfPresent(sessionId, (k, list) -> {
                list.remove(this);
                return list.isEmpty() ? null : list;
            });
        }
    }

    public KafkaSessionBus(ServiceConfig config, KafkaConnection kafka) {
        this.config = config;
        this.kafka = kafka;
    }

    /**
     * Connects on first use, not at start: the gateway has its own Kafka channels ({@code GatewayChannels}),
     * so in roles gateway and all this bus is idle unless an in-process front end uses it, and a reader
     * started eagerly fetched every reply of every session for nobody (a second consumer of the whole
     * replies topic beside the gateway's).
     */
    private synchronized void start() {
        if (producer != null) {
            return;
        }
        if (!config.role().runsGateway()) {
            throw new IllegalStateException("the session bus runs in roles gateway and all, not " + config.role());
        }
        if (stopped) {
            throw new IllegalStateException("the session bus has stopped");
        }
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p);
        String topic = config.topics().replies();
        List<TopicPartition> partitions = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        c.assign(partitions);
        c.seekToEnd(partitions);
        partitions.forEach(c::position); // resolve now: a subscriber sees everything sent after it subscribed
        consumer = c;
        running = true;
        reader = Thread.ofPlatform().name("ternstream-session-bus").daemon().start(this::read);
        producer = new KafkaProducer<>(kafka.producerProperties()); // last: it marks the bus started
        LOG.infof("session bus reading %s (%d partitions)", topic, partitions.size());
    }

    private void read() {
        try {
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    List<Listener> subscribed = r.key() == null ? null : listeners.get(r.key());
                    if (subscribed == null) {
                        continue;
                    }
                    ReplyEvent event;
                    try {
                        event = codec.decodeReply(r.value());
                    } catch (ContractViolation e) {
                        LOG.warnf("unreadable reply at %s-%d@%d: %s", r.topic(), r.partition(), r.offset(), e.getMessage());
                        continue;
                    }
                    for (Listener l : subscribed) {
                        try {
                            l.offer(event);
                        } catch (RuntimeException e) {
                            LOG.warnf(e, "a reply listener of session %s failed", l.sessionId);
                        }
                    }
                }
            }
        } catch (WakeupException e) {
            // shutting down
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    @Override
    public CompletionStage<Void> send(PromptTopicMessage message) {
        ensureStarted();
        CompletableFuture<Void> done = new CompletableFuture<>();
        producer.send(new ProducerRecord<>(config.topics().prompts(), message.sessionId(), codec.encode(message)),
                (metadata, error) -> {
                    if (error != null) {
                        done.completeExceptionally(error);
                    } else {
                        done.complete(null);
                    }
                });
        return done;
    }

    @Override
    public Subscription subscribe(String sessionId, Consumer<ReplyEvent> listener) {
        ensureStarted();
        Listener l = new Listener(sessionId, listener);
        listeners.computeIfAbsent(sessionId, k -> new CopyOnWriteArrayList<>()).add(l);
        return l;
    }

    private void ensureStarted() {
        if (producer == null) {
            start();
        }
    }

    synchronized void onStop(@Observes(notifyObserver = Reception.IF_EXISTS) @Priority(5) ShutdownEvent event) {
        stopped = true;
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
        if (reader != null) {
            try {
                reader.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }
}
