package io.ternstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every example in schemas/examples validates and round-trips; every broken one is rejected usefully. */
class ExamplesTest {
    private static final Path EXAMPLES = Path.of("examples");
    private final MessageCodec codec = new MessageCodec();

    private enum Kind { PROMPT_TOPIC, REPLY }

    /** The file name says which topic a message belongs to. */
    private static Kind kindOf(String file) {
        return Stream.of("token", "complete", "error", "ack").anyMatch(file::startsWith) ? Kind.REPLY : Kind.PROMPT_TOPIC;
    }

    private Object decode(Kind kind, byte[] bytes) throws ContractViolation {
        return switch (kind) {
            case PROMPT_TOPIC -> codec.decodePromptTopic(bytes);
            case REPLY -> codec.decodeReply(bytes);
        };
    }

    private static List<Path> files(String dir) throws IOException {
        try (Stream<Path> s = Files.list(EXAMPLES.resolve(dir))) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> goodExamplesValidateAndRoundTrip() throws IOException {
        List<Path> good = files("good");
        assertTrue(good.size() >= 13, "expected an example of every message, found " + good);
        return good.stream().map(path -> DynamicTest.dynamicTest(path.getFileName().toString(), () -> {
            byte[] original = Files.readAllBytes(path);
            Object decoded = decode(kindOf(path.getFileName().toString()), original);
            byte[] encoded = codec.encode(decoded);
            assertEquals(codec.tree(original), codec.tree(encoded), "round trip changed the message");
            Object again = decode(kindOf(path.getFileName().toString()), encoded);
            assertEquals(codec.encodeToString(decoded), codec.encodeToString(again));
        }));
    }

    @TestFactory
    Stream<DynamicTest> brokenExamplesAreRejectedWithAUsefulMessage() throws IOException {
        Properties expected = new Properties();
        try (Reader r = Files.newBufferedReader(EXAMPLES.resolve("broken/expected.properties"))) {
            expected.load(r);
        }
        List<Path> broken = files("broken");
        assertEquals(expected.stringPropertyNames().size(), broken.size(), "every broken example needs an expectation");
        return broken.stream().map(path -> DynamicTest.dynamicTest(path.getFileName().toString(), () -> {
            String name = path.getFileName().toString();
            String fragment = expected.getProperty(name);
            assertTrue(fragment != null, "no expectation for " + name);
            ContractViolation e = assertThrows(ContractViolation.class,
                    () -> decode(kindOf(name), Files.readAllBytes(path)));
            assertTrue(e.getMessage().toLowerCase().contains(fragment.toLowerCase()),
                    name + ": message '" + e.getMessage() + "' does not mention '" + fragment + "'");
        }));
    }

    @Test
    void idsOfABrokenMessageAreKeptForTheErrorReply() {
        ContractViolation e = assertThrows(ContractViolation.class, () -> codec.decodePromptTopic(
                "{\"type\":\"prompt\",\"sessionId\":\"s1\",\"requestId\":\"r1\",\"text\":\"hi\",\"params\":{\"topK\":-2}}"
                        .getBytes()));
        assertEquals(ErrorCode.SCHEMA_VIOLATION, e.code());
        assertEquals("s1", e.sessionId());
        assertEquals("r1", e.requestId());
    }

    @Test
    void invalidIdsAreNotEchoed() {
        ContractViolation e = assertThrows(ContractViolation.class, () -> codec.decodePromptTopic(
                "{\"type\":\"prompt\",\"sessionId\":\"has space\",\"requestId\":\"r1\",\"text\":\"hi\"}".getBytes()));
        assertEquals(null, e.sessionId());
    }

    @Test
    void emptyAndNullValuesAreMalformed() {
        assertEquals(ErrorCode.MALFORMED_JSON,
                assertThrows(ContractViolation.class, () -> codec.decodePromptTopic(null)).code());
        assertEquals(ErrorCode.MALFORMED_JSON,
                assertThrows(ContractViolation.class, () -> codec.decodePromptTopic(new byte[0])).code());
    }

    @Test
    void recordsEncodeWithTheirTypeDiscriminator() throws ContractViolation {
        var prompt = PromptRequest.ofTokens("s", "r", List.of(1, 2), GenerationParams.defaults());
        String json = codec.encodeToString(prompt);
        assertTrue(json.contains("\"type\":\"prompt\""), json);
        assertEquals(prompt, codec.decodePromptTopic(json.getBytes()));
        var complete = new TurnCompleteEvent("s", "r", 3, null, FinishReason.CANCELLED, new Usage(2, 3, 1.5, 20));
        ReplyEvent back = codec.decodeReply(codec.encode(complete));
        assertEquals(complete, back);
        assertTrue(back.terminal());
        assertFalse(new TokenEvent("s", "r", 0, "", List.of(1)).terminal());
    }
}
