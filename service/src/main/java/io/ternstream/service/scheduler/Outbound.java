package io.ternstream.service.scheduler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/** The one producer all outgoing records share, with its callbacks turned into futures. */
final class Outbound {
    private final Producer<String, byte[]> producer;

    Outbound(Producer<String, byte[]> producer) {
        this.producer = producer;
    }

    CompletableFuture<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
        CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
        producer.send(record, (metadata, error) -> {
            if (error != null) {
                future.completeExceptionally(error);
            } else {
                future.complete(metadata);
            }
        });
        return future;
    }

    void flush() {
        producer.flush();
    }

    void close(java.time.Duration timeout) {
        producer.close(timeout);
    }
}
