package io.ternstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The codec's one reader: one parse per record, errors with a position, and bounded work for hostile input. */
class MessageCodecReaderTest {
    private static final String PROMPT_HEAD = "{\"type\":\"prompt\",\"sessionId\":\"s1\",\"requestId\":\"r1\",";
    private final MessageCodec codec = new MessageCodec();

    private ContractViolation rejected(String json) {
        return rejected(json.getBytes(StandardCharsets.UTF_8));
    }

    private ContractViolation rejected(byte[] json) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(ContractViolation.class, () -> codec.decodePromptTopic(json)));
    }

    @Test
    void theCodecHasOnlyTheValidatorsJacksonToParseWith() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("com.fasterxml.jackson.databind.ObjectMapper"),
                "a second Jackson on the schemas classpath would allow a second parse of each record");
    }

    @Test
    void aMalformedDocumentGivesOneParseErrorThatNamesItsPosition() {
        ContractViolation e = rejected("{\"type\":\"cancel\",\n\"sessionId\":\"s1\",\n\"requestId\" \"r1\"}");
        assertEquals(ErrorCode.MALFORMED_JSON, e.code());
        assertTrue(e.getMessage().startsWith("not valid JSON at line 3, column 13: "), e.getMessage());
        assertEquals(e.getMessage().indexOf("not valid JSON"), e.getMessage().lastIndexOf("not valid JSON"), e.getMessage());
    }

    @Test
    void trailingContentAfterTheObjectIsMalformed() {
        ContractViolation e = rejected("{\"type\":\"cancel\",\"sessionId\":\"s1\",\"requestId\":\"r1\"} {}");
        assertEquals(ErrorCode.MALFORMED_JSON, e.code());
    }

    @Test
    void deepNestingIsRefusedBeforeItCanExhaustTheStack() {
        ContractViolation inField = rejected(PROMPT_HEAD + "\"text\":\"hi\",\"params\":" + "[".repeat(100_000));
        assertEquals(ErrorCode.MALFORMED_JSON, inField.code());
        assertTrue(inField.getMessage().contains("nesting depth"), inField.getMessage());
        ContractViolation whole = rejected("[".repeat(100_000) + "]".repeat(100_000));
        assertEquals(ErrorCode.MALFORMED_JSON, whole.code());
        ContractViolation objects = rejected("{\"a\":".repeat(100_000));
        assertEquals(ErrorCode.MALFORMED_JSON, objects.code());
    }

    @Test
    void nestingUpToTheLimitIsStillReadAndJudgedByTheSchema() {
        String nested = "[".repeat(MessageCodec.MAX_NESTING_DEPTH - 1) + "]".repeat(MessageCodec.MAX_NESTING_DEPTH - 1);
        ContractViolation e = rejected(PROMPT_HEAD + "\"text\":\"hi\",\"extra\":" + nested + "}");
        assertEquals(ErrorCode.SCHEMA_VIOLATION, e.code());
        assertEquals("s1", e.sessionId());
    }

    @Test
    void aHugeNumberIsRefusedByItsLength() {
        ContractViolation e = rejected(PROMPT_HEAD + "\"text\":\"hi\",\"params\":{\"seed\":1" + "0".repeat(100_000) + "}}");
        assertEquals(ErrorCode.MALFORMED_JSON, e.code());
        assertTrue(e.getMessage().contains("Number value length"), e.getMessage());
    }

    @Test
    void aHugeExponentIsAnOrdinaryOutOfRangeValue() {
        ContractViolation temperature = rejected(PROMPT_HEAD + "\"text\":\"hi\",\"params\":{\"temperature\":1e999999999}}");
        assertEquals(ErrorCode.SCHEMA_VIOLATION, temperature.code());
        ContractViolation seed = rejected(PROMPT_HEAD + "\"text\":\"hi\",\"params\":{\"seed\":1e999999999}}");
        assertEquals(ErrorCode.SCHEMA_VIOLATION, seed.code());
        ContractViolation tokens = rejected(PROMPT_HEAD + "\"tokenIds\":[99999999999999999999999999999999]}");
        assertEquals(ErrorCode.SCHEMA_VIOLATION, tokens.code());
    }

    @Test
    void aLongFieldNameIsRefusedByItsLength() {
        ContractViolation e = rejected(PROMPT_HEAD + "\"" + "n".repeat(MessageCodec.MAX_NAME_CHARS + 1) + "\":1}");
        assertEquals(ErrorCode.MALFORMED_JSON, e.code());
    }

    @Test
    void stringsAndDocumentsAboveTheirLimitsAreMalformed() {
        String text = "x".repeat(MessageCodec.MAX_STRING_CHARS + 1);
        assertEquals(ErrorCode.MALFORMED_JSON, rejected(PROMPT_HEAD + "\"text\":\"" + text + "\"}").code());
        byte[] padded = (PROMPT_HEAD + "\"text\":\"hi\"" + " ".repeat((int) MessageCodec.MAX_DOCUMENT_BYTES) + "}")
                .getBytes(StandardCharsets.UTF_8);
        assertEquals(ErrorCode.MALFORMED_JSON, rejected(padded).code());
    }
}
