package io.ternstream.service.scheduler;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.schemas.SessionSnapshot;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The scheduler's delivery rules, on Kafka's in-memory client implementations (MockConsumer,
 * MockProducer) and the golden tiny model: acknowledgements are under the test's control, so the
 * order "state written, then offset committed" and the pause at the bound can be observed exactly.
 */
class SchedulerTest {
    private static final String PROMPTS = "p";
    private static final String STATE = "s";
    private static final TopicPartition TP = new TopicPartition(PROMPTS, 0);
    private static final TopicPartition STATE_TP = new TopicPartition(STATE, 0);
    private static final MessageCodec CODEC = new MessageCodec();

    private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
    private final MockConsumer<String, byte[]> restore = new MockConsumer<>("earliest");
    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
    private Engine engine;
    private Scheduler scheduler;

    private void start(Map<String, String> settings, List<SessionSnapshot> stored) throws Exception {
        var builder = new SmallRyeConfigBuilder().withMapping(ServiceConfig.class)
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withDefaultValue("ternstream.topics.prompts", PROMPTS)
                .withDefaultValue("ternstream.topics.session-state", STATE)
                .withDefaultValue("ternstream.scheduler.commit-interval", "1ms");
        settings.forEach(builder::withDefaultValue);
        ServiceConfig config = builder.build().getConfigMapping(ServiceConfig.class);
        engine = Engine.open(Path.of(System.getProperty("ternstream.model.dir")), new EngineOptions(1));
        restore.updateBeginningOffsets(Map.of(STATE_TP, 0L));
        restore.updateEndOffsets(Map.of(STATE_TP, (long) stored.size()));
        restore.schedulePollTask(() -> {
            for (int i = 0; i < stored.size(); i++) {
                restore.addRecord(new ConsumerRecord<>(STATE, 0, i, stored.get(i).sessionId(), CODEC.encode(stored.get(i))));
            }
        });
        var out = new Outbound(producer);
        var store = new SessionStateStore(out, restore, CODEC, STATE);
        var processor = new PromptProcessor(CODEC, config.generation(), engine.config().vocabSize(), Optional.empty(),
                topic -> true);
        scheduler = new Scheduler(config, engine, consumer, out, new TokenPublisher(out, CODEC, "r"), store,
                new DeadLetterPublisher(out, "d"), processor, CODEC, new ServiceMetrics(new SimpleMeterRegistry()),
                new Tracing(OpenTelemetry.noop()));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
        consumer.schedulePollTask(() -> consumer.rebalance(List.of(TP)));
        scheduler.start();
    }

    private void deliver(long offset, PromptTopicMessage message) {
        consumer.schedulePollTask(() -> consumer.addRecord(
                new ConsumerRecord<>(PROMPTS, 0, offset, message.sessionId(), CODEC.encode(message))));
    }

    private long committed() {
        var c = consumer.committed(Set.of(TP)).get(TP);
        return c == null ? -1 : c.offset();
    }

    private List<ProducerRecord<String, byte[]>> sentTo(String topic) {
        return producer.history().stream().filter(r -> r.topic().equals(topic)).toList();
    }

    @AfterEach
    void stop() throws Exception {
        producer.flush();
        if (scheduler != null) {
            scheduler.stop();
        }
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void theOffsetIsCommittedOnlyAfterTheStateIsWritten() throws Exception {
        start(Map.of(), List.of());
        deliver(0, PromptRequest.ofTokens("a", "r1", List.of(1, 2, 3), new GenerationParams(4, 0f, null, null, null,
                null, null, null)));
        await().atMost(Duration.ofSeconds(30)).until(() -> !sentTo(STATE).isEmpty());
        List<ProducerRecord<String, byte[]>> sent = producer.history();
        int stateIndex = sent.indexOf(sentTo(STATE).getFirst());
        assertEquals(sent.size() - 1, stateIndex, "the snapshot is the turn's last record");
        for (int i = 0; i < stateIndex; i++) {
            assertTrue(producer.completeNext()); // every reply event acknowledged, the snapshot not yet
        }
        // a commit of position 0 ("nothing consumed yet") is fine; passing the prompt is not
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> committed() < 1);
        assertTrue(producer.completeNext()); // now the snapshot
        await().atMost(Duration.ofSeconds(10)).until(() -> committed() == 1);
        SessionSnapshot snapshot = CODEC.decodeSnapshot(sentTo(STATE).getFirst().value());
        assertEquals(0, snapshot.appliedOffset());
        assertEquals(List.of("r1"), snapshot.recentRequestIds());
    }

    @Test
    void aRecordAppliedBeforeACrashIsNotAppliedAgain() throws Exception {
        // a session restored from the state topic: one turn done, the record at offset 5 applied
        var stored = new SessionSnapshot("b", fingerprintOfGoldenModel(), null, 1, "r1", 5, List.of("r1"),
                System.currentTimeMillis(), false);
        start(Map.of(), List.of(stored));
        deliver(5, PromptRequest.ofTokens("b", "r1", List.of(1), null)); // redelivered: offset already applied
        deliver(6, PromptRequest.ofTokens("b", "r1", List.of(1), null)); // sent again by the client: same requestId
        await().atMost(Duration.ofSeconds(30)).until(() -> committed() == 7);
        assertTrue(producer.history().isEmpty(), "no reply and no state for records already applied");
    }

    private static String fingerprintOfGoldenModel() throws Exception {
        try (Engine e = Engine.open(Path.of(System.getProperty("ternstream.model.dir")), new EngineOptions(1))) {
            return e.fingerprint();
        }
    }

    @Test
    void consumptionPausesAtTheBoundOfActiveSessions() throws Exception {
        start(Map.of("ternstream.scheduler.max-active-sessions", "2"), List.of());
        for (int i = 0; i < 3; i++) {
            deliver(i, PromptRequest.ofTokens("c" + i, "r", List.of(1, 2), new GenerationParams(4000, 0.8f, null, null,
                    null, null, null, null)));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> consumer.paused().contains(TP));
    }
}
