package io.ternstream.service.gateway;

import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptTopicMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.utils.Utils;
import org.jboss.logging.Logger;

/**
 * The gateway's only link to the engines: one producer for prompts, commands and ownership
 * claims, and one consumer thread that reads this replica's reply topic, the shared replies topic
 * (control acknowledgements and rejections, which the engine always sends there) and the owners
 * topic. The consumer never joins a group: it assigns all partitions itself, so replicas never
 * rebalance each other.
 */
public final class GatewayKafka implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(GatewayKafka.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final long SWEEP_EVERY_MILLIS = 30_000;
    private static final long IDLE_SESSION_MILLIS = 15 * 60_000;

    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<String, byte[]> consumer;
    private final MessageCodec codec;
    private final ReplyHub hub;
    private final SessionOwners owners;
    private final String promptsTopic;
    private final String ownersTopic;
    private final List<String> replyTopics;
    private final Map<String, Integer> partitionCounts;
    private final Thread thread;
    private final Properties historyProps;
    private volatile boolean running = true;

    public GatewayKafka(Properties producerProps, Properties consumerProps, MessageCodec codec, ReplyHub hub,
                        String promptsTopic, String ownersTopic, List<String> replyTopics,
                        Map<String, Integer> partitionCounts) {
        this.producer = new KafkaProducer<>(producerProps);
        this.consumer = new KafkaConsumer<>(consumerProps);
        this.historyProps = new Properties();
        this.historyProps.putAll(consumerProps);
        this.historyProps.put(ConsumerConfig.CLIENT_ID_CONFIG, consumerProps.get(ConsumerConfig.CLIENT_ID_CONFIG) + "-history");
        this.codec = codec;
        this.hub = hub;
        this.promptsTopic = promptsTopic;
        this.ownersTopic = ownersTopic;
        this.replyTopics = List.copyOf(replyTopics);
        this.partitionCounts = Map.copyOf(partitionCounts);
        this.owners = new SessionOwners(this::writeOwner);
        this.thread = Thread.ofPlatform().name("gateway-replies").daemon().unstarted(this::loop);
    }

    public SessionOwners owners() {
        return owners;
    }

    public void start() {
        thread.start();
    }

    /** Sends a prompt or command keyed by its sessionId, so the session's messages stay in order. */
    public CompletableFuture<RecordMetadata> send(PromptTopicMessage message) {
        return send(new ProducerRecord<>(promptsTopic, message.sessionId(), codec.encode(message)));
    }

    private CompletableFuture<?> writeOwner(String sessionId, String owner) {
        byte[] value = owner == null ? null : owner.getBytes(StandardCharsets.UTF_8);
        return send(new ProducerRecord<>(ownersTopic, sessionId, value));
    }

    private CompletableFuture<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
        CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    result.completeExceptionally(error);
                } else {
                    result.complete(metadata);
                }
            });
        } catch (RuntimeException e) { // e.g. metadata timeout, closed producer
            result.completeExceptionally(e);
        }
        return result;
    }

    private void loop() {
        try {
            List<TopicPartition> ownerPartitions = partitions(ownersTopic);
            List<TopicPartition> replyPartitions = new ArrayList<>();
            for (String topic : replyTopics) {
                replyPartitions.addAll(partitions(topic));
            }
            List<TopicPartition> all = new ArrayList<>(ownerPartitions);
            all.addAll(replyPartitions);
            consumer.assign(all);
            consumer.seekToBeginning(ownerPartitions); // the whole ownership table
            consumer.seekToEnd(replyPartitions);       // replies from now on; resumes read the buffer
            replyPartitions.forEach(consumer::position); // fix "end" now, before any prompt is sent
            Map<TopicPartition, Long> ownersEnd = consumer.endOffsets(ownerPartitions);
            long lastSweep = System.currentTimeMillis();
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                    if (record.topic().equals(ownersTopic)) {
                        owners.apply(record.key(), record.value() == null ? null
                                : new String(record.value(), StandardCharsets.UTF_8));
                    } else {
                        relay(record);
                    }
                }
                if (!owners.ready().isDone() && caughtUp(ownersEnd)) {
                    owners.markCaughtUp();
                    LOG.info("gateway: session ownership table loaded");
                }
                long now = System.currentTimeMillis();
                if (now - lastSweep > SWEEP_EVERY_MILLIS) {
                    hub.sweep(IDLE_SESSION_MILLIS);
                    lastSweep = now;
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("gateway: reply consumer stopped", e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private boolean caughtUp(Map<TopicPartition, Long> end) {
        for (var e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void relay(ConsumerRecord<String, byte[]> record) {
        if (record.key() == null || !hub.tracks(record.key()) || record.value() == null) {
            return; // another replica's or another client's session: not decoded at all
        }
        try {
            hub.accept(new Reply(codec.decodeReply(record.value()), new String(record.value(), StandardCharsets.UTF_8)));
        } catch (ContractViolation e) {
            LOG.warnf("gateway: dropped a malformed reply event at %s-%d@%d: %s", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
        }
    }

    /** From the admin's description: a just-created topic may still be missing from client metadata. */
    private List<TopicPartition> partitions(String topic) {
        int count = partitionCounts.get(topic);
        List<TopicPartition> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(new TopicPartition(topic, i));
        }
        return list;
    }

    /**
     * The session's events in the reply topics since the given time, in topic order, read by a
     * short-lived consumer from the one partition per topic that holds the session's key (the
     * producer's default partitioner: murmur2 of the key). For resumes the buffer cannot serve.
     */
    public CompletableFuture<List<Reply>> history(String sessionId, long sinceMillis) {
        return CompletableFuture.supplyAsync(() -> readHistory(sessionId, sinceMillis),
                command -> Thread.ofVirtual().name("gateway-history").start(command));
    }

    private List<Reply> readHistory(String sessionId, long sinceMillis) {
        byte[] key = sessionId.getBytes(StandardCharsets.UTF_8);
        List<TopicPartition> partitions = replyTopics.stream()
                .map(t -> new TopicPartition(t, Utils.toPositive(Utils.murmur2(key)) % partitionCounts.get(t))).toList();
        List<Reply> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(historyProps)) {
            reader.assign(partitions);
            Map<TopicPartition, Long> end = reader.endOffsets(partitions);
            Map<TopicPartition, Long> since = new java.util.HashMap<>();
            partitions.forEach(tp -> since.put(tp, sinceMillis));
            var starts = reader.offsetsForTimes(since);
            for (TopicPartition tp : partitions) {
                var start = starts.get(tp);
                reader.seek(tp, start == null ? end.get(tp) : start.offset());
            }
            long deadline = System.currentTimeMillis() + 10_000;
            while (partitions.stream().anyMatch(tp -> reader.position(tp) < end.get(tp))
                    && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> record : reader.poll(POLL)) {
                    if (sessionId.equals(record.key()) && record.value() != null
                            && record.offset() < end.get(new TopicPartition(record.topic(), record.partition()))) {
                        try {
                            events.add(new Reply(codec.decodeReply(record.value()),
                                    new String(record.value(), StandardCharsets.UTF_8)));
                        } catch (ContractViolation e) {
                            LOG.warnf("gateway: skipped a malformed reply event at %s-%d@%d", record.topic(),
                                    record.partition(), record.offset());
                        }
                    }
                }
            }
        }
        return events;
    }

    public boolean alive() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
