package io.ternstream.service.scheduler;

import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.SessionSnapshot;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * Session snapshots on the compacted state topic. Writes go to the partition with the number of
 * the prompts partition they belong to (the topics are co-partitioned); restore reads a partition
 * from the beginning to its end offset at assignment time, keeping the last value per key.
 * Bytes only: the engine serialises its state, this class never looks inside.
 */
final class SessionStateStore {
    private static final Logger LOG = Logger.getLogger(SessionStateStore.class);

    private final Outbound out;
    private final Consumer<String, byte[]> restoreConsumer;
    private final MessageCodec codec;
    private final String topic;

    SessionStateStore(Outbound out, Consumer<String, byte[]> restoreConsumer, MessageCodec codec, String topic) {
        this.out = out;
        this.restoreConsumer = restoreConsumer;
        this.codec = codec;
        this.topic = topic;
    }

    CompletableFuture<?> write(int partition, SessionSnapshot snapshot) {
        return out.send(new ProducerRecord<>(topic, partition, snapshot.sessionId(), codec.encode(snapshot)));
    }

    /** Removes the session for good once compaction runs. */
    CompletableFuture<?> tombstone(int partition, String sessionId) {
        return out.send(new ProducerRecord<>(topic, partition, sessionId, null));
    }

    /** The latest snapshot of every live session in these prompts partitions. */
    Map<String, SessionSnapshot> restore(Collection<TopicPartition> promptPartitions) {
        List<TopicPartition> statePartitions = promptPartitions.stream()
                .map(tp -> new TopicPartition(topic, tp.partition())).toList();
        Map<String, SessionSnapshot> latest = new HashMap<>();
        if (statePartitions.isEmpty()) {
            return latest;
        }
        restoreConsumer.assign(statePartitions);
        restoreConsumer.seekToBeginning(statePartitions);
        Map<TopicPartition, Long> end = restoreConsumer.endOffsets(statePartitions, Duration.ofSeconds(30));
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (statePartitions.stream().anyMatch(tp -> restoreConsumer.position(tp) < end.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("restoring " + statePartitions + " did not reach the end offsets " + end);
            }
            for (ConsumerRecord<String, byte[]> r : restoreConsumer.poll(Duration.ofMillis(200))) {
                if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
                    continue; // written after we started; this instance will not miss it, it wrote it
                }
                if (r.value() == null) {
                    latest.remove(r.key());
                    continue;
                }
                try {
                    latest.put(r.key(), codec.decodeSnapshot(r.value()));
                } catch (ContractViolation e) {
                    LOG.warnf("skipping unreadable snapshot of session %s at %s-%d@%d: %s", r.key(), r.topic(),
                            r.partition(), r.offset(), e.getMessage());
                }
            }
        }
        restoreConsumer.assign(List.of());
        return latest;
    }

    void close() {
        restoreConsumer.close(Duration.ofSeconds(2));
    }
}
