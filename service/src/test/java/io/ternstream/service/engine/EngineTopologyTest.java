package io.ternstream.service.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.schemas.Contracts;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.ForkCommand;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.SessionImport;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.config.TestConfigs;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import io.ternstream.service.session.CommandDecoder;
import io.ternstream.service.session.SessionCore;
import io.ternstream.service.session.SessionRecordCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine role's Kafka adapter without a broker: Kafka Streams' test driver feeds the prompts topic
 * into the real topology, processor, engine loop and session core (golden model), and the test reads
 * the sinks and the stores. Wall-clock time is the driver's, advanced a millisecond at a time.
 */
class EngineTopologyTest {
    private static final MessageCodec CODEC = new MessageCodec();
    private final ServiceConfig config = TestConfigs.of(Map.of());
    private Engine engine;
    private EngineLoop loop;
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> prompts;
    private TestOutputTopic<String, byte[]> replies;
    private TestOutputTopic<String, byte[]> deadLetters;
    private TestOutputTopic<String, byte[]> promptsOut;
    private final List<TestRecord<String, byte[]>> received = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        engine = Engine.open(Path.of(System.getProperty("ternstream.model.dir")), new EngineOptions(1));
        var metrics = new ServiceMetrics(new SimpleMeterRegistry());
        var records = new SessionRecordCodec(CODEC);
        var decoder = new CommandDecoder(CODEC, config.limits(), engine.config().vocabSize(), Optional.empty(), topic -> false);
        var replyRecords = new ReplyRecords(CODEC, config.topics().replies());
        loop = new EngineLoop();
        loop.start(effects -> new SessionCore(engine, config.scheduler(), config.generation(), effects, records, metrics,
                new Tracing(OpenTelemetry.noop()), System::currentTimeMillis));
        var topology = EngineTopology.build(config.topics(), () -> new PromptTopicProcessor(loop, decoder, records,
                replyRecords, Duration.ofMillis(1), Duration.ofHours(1), metrics, config.topics().prompts(),
                new GroupLease(Duration.ofSeconds(10), System.nanoTime()), Duration.ZERO), replyRecords);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("topology-test").toString());
        driver = new TopologyTestDriver(topology, props);
        prompts = driver.createInputTopic(config.topics().prompts(), new StringSerializer(), new ByteArraySerializer());
        replies = driver.createOutputTopic(config.topics().replies(), new StringDeserializer(), new ByteArrayDeserializer());
        deadLetters = driver.createOutputTopic(config.topics().deadLetters(), new StringDeserializer(), new ByteArrayDeserializer());
        promptsOut = driver.createOutputTopic(config.topics().prompts(), new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() throws Exception {
        driver.close();
        loop.stop();
        engine.close();
    }

    @Test
    void aPromptIsStreamedBackThenItsSessionIsStoredAndItsPendingEntryRemoved() throws Exception {
        send(PromptRequest.ofTokens("a", "r1", List.of(3, 5, 9), new GenerationParams(4, 0.7f, null, null, null, null, 1L, null)));
        List<ReplyEvent> events = repliesUntilTerminal("r1");

        var complete = assertInstanceOf(TurnCompleteEvent.class, events.getLast());
        assertEquals(events.size() - 1, complete.seq());
        TestRecord<String, byte[]> first = received.getFirst();
        assertEquals("a", first.key());
        assertEquals(Contracts.TYPE_TOKEN, header(first, Contracts.HEADER_EVENT_TYPE));
        assertEquals("r1", header(first, Contracts.HEADER_REQUEST_ID));
        assertEquals("0", header(first, Contracts.HEADER_SEQ));
        KeyValueStore<String, byte[]> sessions = driver.getKeyValueStore(EngineTopology.SESSIONS_STORE);
        KeyValueStore<Long, byte[]> pending = driver.getKeyValueStore(EngineTopology.PENDING_STORE);
        await().atMost(Duration.ofSeconds(10)).until(() -> tick() && pending.approximateNumEntries() == 0 && sessions.get("a") != null);
        assertEquals(1, new SessionRecordCodec(CODEC).decode(sessions.get("a")).turnCount());
    }

    @Test
    void aBadRecordIsAnsweredAndDeadLetteredAndNeverPending() {
        prompts.pipeInput("b", "{\"type\":\"prompt\",\"sessionId\":\"b\",\"requestId\":\"r1\",\"tokenIds\":[9999999]}"
                .getBytes(StandardCharsets.UTF_8));
        var error = assertInstanceOf(ErrorEvent.class, repliesUntilTerminal("r1").getLast());
        assertEquals(ErrorCode.INVALID_PARAMETERS, error.code());
        TestRecord<String, byte[]> dead = deadLetters.readRecord();
        assertEquals("b", dead.key());
        assertEquals(ErrorCode.INVALID_PARAMETERS.json(), header(dead, Contracts.HEADER_DLQ_CODE));
        assertEquals("0", header(dead, Contracts.HEADER_DLQ_OFFSET));
        assertEquals(0, driver.<Long, byte[]>getKeyValueStore(EngineTopology.PENDING_STORE).approximateNumEntries());
    }

    @Test
    void aForkPutsTheCopiedStateOnThePromptsTopicKeyedByTheTarget() throws Exception {
        send(PromptRequest.ofTokens("src", "r1", List.of(3, 5), new GenerationParams(2, 0.7f, null, null, null, null, 1L, null)));
        repliesUntilTerminal("r1");
        send(new ForkCommand("src", "f1", "dst"));
        await().atMost(Duration.ofSeconds(10)).until(() -> tick() && !promptsOut.isEmpty());
        TestRecord<String, byte[]> copy = promptsOut.readRecord();
        assertEquals("dst", copy.key());
        var message = assertInstanceOf(SessionImport.class, CODEC.decodePromptTopic(copy.value()));
        assertEquals("src", message.sourceSessionId());
        assertNotNull(message.state());
        assertTrue(message.state().length > 0);
    }

    private void send(Object message) {
        prompts.pipeInput(((io.ternstream.schemas.PromptTopicMessage) message).sessionId(), CODEC.encode(message));
    }

    /** Advances the driver's clock a millisecond, which applies what the engine produced; always true. */
    private boolean tick() {
        driver.advanceWallClockTime(Duration.ofMillis(1));
        return true;
    }

    private List<ReplyEvent> repliesUntilTerminal(String requestId) {
        List<ReplyEvent> events = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1)).until(() -> {
            tick();
            while (!replies.isEmpty()) {
                TestRecord<String, byte[]> r = replies.readRecord();
                received.add(r);
                ReplyEvent e = CODEC.decodeReply(r.value());
                if (e.requestId().equals(requestId)) {
                    events.add(e);
                }
            }
            return !events.isEmpty() && events.getLast().terminal();
        });
        return events;
    }

    private static String header(TestRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
