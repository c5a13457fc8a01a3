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
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;
import org.jboss.logging.Logger;

/**
 * Kafka Streams' clients, with one change: the main consumer's poll waits at most the busy interval
 * while the engine has work or effects wait to be applied, and the full poll time (Streams'
 * {@code poll.ms}) while it is quiet. A poll returns as soon as records arrive either way; what the
 * short wait buys is that a token reaches the producer within about a millisecond, and what the long
 * one buys is an idle instance that does not wake a thousand times a second. The main consumer
 * also reports its polls and heartbeat responses to the {@link GroupLease}.
 */
final class PacedClients implements KafkaClientSupplier {
    private static final Logger LOG = Logger.getLogger(PacedClients.class);
    private final BooleanSupplier quiet;
    private final Duration busyPoll;
    private final GroupLease lease;

    PacedClients(BooleanSupplier quiet, Duration busyPoll, GroupLease lease) {
        this.quiet = quiet;
        this.busyPoll = busyPoll;
        this.lease = lease;
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
        return new PacedConsumer(config, quiet, busyPoll, lease);
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
        private final GroupLease lease;

        PacedConsumer(Map<String, Object> config, BooleanSupplier quiet, Duration busyPoll, GroupLease lease) {
            super(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            this.quiet = quiet;
            this.busyPoll = busyPoll;
            this.lease = lease;
            // the group coordinator counts every heartbeat response, refusals included
            metrics().entrySet().stream()
                    .filter(m -> m.getKey().name().equals("heartbeat-total") && m.getKey().group().endsWith("coordinator-metrics"))
                    .findFirst()
                    .ifPresentOrElse(m -> {
                        Metric responses = m.getValue();
                        lease.watch(() -> responses.metricValue() instanceof Number n ? n.doubleValue() : Double.NaN);
                    }, () -> LOG.warn("the consumer counts no heartbeat responses: a network partition is not noticed"
                            + " before the group's answer, only a standstill of the process"));
        }

        @Override
        public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            long start = System.nanoTime();
            ConsumerRecords<byte[], byte[]> records =
                    super.poll(quiet.getAsBoolean() || timeout.compareTo(busyPoll) <= 0 ? timeout : busyPoll);
            lease.polled(start);
            return records;
        }
    }
}
