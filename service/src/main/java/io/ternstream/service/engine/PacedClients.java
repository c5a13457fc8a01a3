package io.ternstream.service.engine;

import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;

/**
 * Kafka Streams' clients, with one change: the main consumer's poll waits at most the busy interval
 * while the engine has work or effects wait to be applied, and the full poll time (Streams'
 * {@code poll.ms}) while it is quiet. A poll returns as soon as records arrive either way; what the
 * short wait buys is that a token reaches the producer within about a millisecond, and what the long
 * one buys is an idle instance that does not wake a thousand times a second.
 */
final class PacedClients implements KafkaClientSupplier {
    private final BooleanSupplier quiet;
    private final Duration busyPoll;

    PacedClients(BooleanSupplier quiet, Duration busyPoll) {
        this.quiet = quiet;
        this.busyPoll = busyPoll;
    }

    @Override
    public Admin getAdmin(Map<String, Object> config) {
        return Admin.create(config);
    }

    @Override
    public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
        return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Override
    public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
        return new PacedConsumer(config, quiet, busyPoll);
    }

    @Override
    public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static final class PacedConsumer extends KafkaConsumer<byte[], byte[]> {
        private final BooleanSupplier quiet;
        private final Duration busyPoll;

        PacedConsumer(Map<String, Object> config, BooleanSupplier quiet, Duration busyPoll) {
            super(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            this.quiet = quiet;
            this.busyPoll = busyPoll;
        }

        @Override
        public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            return super.poll(quiet.getAsBoolean() || timeout.compareTo(busyPoll) <= 0 ? timeout : busyPoll);
        }
    }
}
