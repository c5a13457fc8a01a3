package io.ternstream.service.scheduler;

import io.ternstream.schemas.Contracts;
import io.ternstream.schemas.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/** Copies a rejected record, bytes unchanged, to the dead-letter topic with the reason in headers. */
final class DeadLetterPublisher {
    private final Outbound out;
    private final String topic;

    DeadLetterPublisher(Outbound out, String topic) {
        this.out = out;
        this.topic = topic;
    }

    CompletableFuture<?> publish(ConsumerRecord<String, byte[]> original, ErrorCode code, String reason) {
        var record = new ProducerRecord<>(topic, null, original.key(), original.value());
        for (Header h : original.headers()) {
            record.headers().add(h);
        }
        record.headers()
                .add(Contracts.HEADER_DLQ_REASON, reason.getBytes(StandardCharsets.UTF_8))
                .add(Contracts.HEADER_DLQ_CODE, code.json().getBytes(StandardCharsets.UTF_8))
                .add(Contracts.HEADER_DLQ_TOPIC, original.topic().getBytes(StandardCharsets.UTF_8))
                .add(Contracts.HEADER_DLQ_PARTITION, Integer.toString(original.partition()).getBytes(StandardCharsets.UTF_8))
                .add(Contracts.HEADER_DLQ_OFFSET, Long.toString(original.offset()).getBytes(StandardCharsets.UTF_8));
        return out.send(record);
    }
}
