package io.ternstream.service.gateway;

import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.jboss.logging.Logger;

/**
 * A session's events read back from the reply topics, for resumes the {@link ReplyHub}'s buffer
 * cannot serve. Each read is its own short-lived consumer over the one partition per topic that
 * holds the session's key (the producer's default partitioner: murmur2 of the key), from a point
 * in time to the end offsets it finds. Not a connector channel: channels are declared once at
 * start with fixed positions, while this is a bounded read, per request, from a timestamp.
 */
final class ReplyHistory {
    private static final Logger LOG = Logger.getLogger(ReplyHistory.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final long READ_LIMIT_MILLIS = 10_000;

    private final Properties consumerProperties;
    private final MessageCodec codec;
    private final GatewayTopics topics;

    ReplyHistory(Properties consumerProperties, MessageCodec codec, GatewayTopics topics) {
        this.consumerProperties = consumerProperties;
        this.codec = codec;
        this.topics = topics;
    }

    /** The session's events in the reply topics since the given time, in topic order. */
    CompletableFuture<List<Reply>> read(String sessionId, long sinceMillis) {
        return CompletableFuture.supplyAsync(() -> readNow(sessionId, sinceMillis),
                command -> Thread.ofVirtual().name("gateway-history").start(command));
    }

    private List<Reply> readNow(String sessionId, long sinceMillis) {
        byte[] key = sessionId.getBytes(StandardCharsets.UTF_8);
        List<TopicPartition> partitions = topics.replyTopics().stream()
                .map(t -> new TopicPartition(t, Utils.toPositive(Utils.murmur2(key)) % topics.partitions().get(t)))
                .toList();
        List<Reply> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(consumerProperties)) {
            reader.assign(partitions);
            Map<TopicPartition, Long> end = reader.endOffsets(partitions);
            Map<TopicPartition, Long> since = new HashMap<>();
            partitions.forEach(tp -> since.put(tp, sinceMillis));
            Map<TopicPartition, OffsetAndTimestamp> starts = reader.offsetsForTimes(since);
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp start = starts.get(tp);
                reader.seek(tp, start == null ? end.get(tp) : start.offset());
            }
            long deadline = System.currentTimeMillis() + READ_LIMIT_MILLIS;
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
}
