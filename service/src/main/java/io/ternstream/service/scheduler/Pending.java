package io.ternstream.service.scheduler;

import io.opentelemetry.context.Context;
import io.ternstream.schemas.PromptTopicMessage;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A decoded, validated prompts-topic record waiting for its session. promptTokens is set for
 * prompts (already tokenized and checked against the limits); the record is kept for the
 * dead-letter topic in case the session rejects it later (e.g. a fork of an unknown session).
 */
record Pending(ConsumerRecord<String, byte[]> record, PromptTopicMessage message, int[] promptTokens, Context trace,
               long receivedNanos) {

    TopicPartition partition() {
        return new TopicPartition(record.topic(), record.partition());
    }

    long offset() {
        return record.offset();
    }
}
