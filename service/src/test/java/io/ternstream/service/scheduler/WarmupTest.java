package io.ternstream.service.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.config.SmallRyeConfigBuilder;
import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.service.config.ServiceConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The warm-up runs the first-token path on made-up data: prompts pass the real checks, nothing is sent. */
class WarmupTest {
    private static final MessageCodec CODEC = new MessageCodec();

    @Test
    void runsTheFirstTokenPathWithoutSendingAnything() throws Exception {
        ServiceConfig config = new SmallRyeConfigBuilder().withMapping(ServiceConfig.class)
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .build().getConfigMapping(ServiceConfig.class);
        var producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (Engine engine = Engine.open(Path.of(System.getProperty("ternstream.model.dir")), new EngineOptions(1))) {
            var processor = new PromptProcessor(CODEC, config.generation(), engine.config().vocabSize(), Optional.empty(),
                    topic -> true);
            var tokens = new TokenPublisher(new Outbound(producer), CODEC, "r");

            int[] rounds = Warmup.run(engine, processor, tokens, CODEC, "p", Duration.ofSeconds(30));

            assertEquals(Warmup.MESSAGE_ROUNDS, rounds[0], "every made-up prompt passes the real checks");
            assertEquals(Warmup.ENGINE_ROUNDS, rounds[1]);
            assertTrue(producer.history().isEmpty(), "the warm-up sends nothing");
            assertArrayEquals(new int[] {0, 0}, Warmup.run(engine, processor, tokens, CODEC, "p", Duration.ZERO));
        }
    }
}
