package io.ternstream.service.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.service.config.TestConfigs;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.session.CommandDecoder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The warm-up runs the first-token path on made-up data: prompts pass the real checks. */
class WarmupTest {
    private static final MessageCodec CODEC = new MessageCodec();

    @Test
    void runsTheFirstTokenPathOnMadeUpData() throws Exception {
        ServiceConfig config = TestConfigs.of(Map.of());
        try (Engine engine = Engine.open(Path.of(System.getProperty("ternstream.model.dir")), new EngineOptions(1))) {
            var decoder = new CommandDecoder(CODEC, config.limits(), engine.config().vocabSize(), Optional.empty(), topic -> true);
            var replies = new ReplyRecords(CODEC, "r");

            int[] rounds = Warmup.run(engine, decoder, replies, CODEC, Duration.ofSeconds(30));

            assertEquals(Warmup.MESSAGE_ROUNDS, rounds[0], "every made-up prompt passes the real checks");
            assertEquals(Warmup.ENGINE_ROUNDS, rounds[1]);
            assertArrayEquals(new int[] {0, 0}, Warmup.run(engine, decoder, replies, CODEC, Duration.ZERO));
        }
    }
}
