package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.PromptTopicMessage;

/**
 * Any text frame a WebSocket client sends on /v1/sessions/{id}/stream. {@link SessionWebSocket}
 * decodes it with the gateway's {@link MessageCodec#decodePromptTopic} and then relies on what this
 * test checks: a refusal carries a code, and an accepted message has a sessionId to compare with
 * the connection's, a requestId to answer to, and for a prompt exactly one of text and token ids.
 */
class WebSocketMessageFuzzTest {
    private static final MessageCodec CODEC = new MessageCodec();

    @FuzzTest
    @DictionaryFile(resourcePath = "openai.dict")
    void message(byte[] frame) {
        PromptTopicMessage message;
        try {
            message = CODEC.decodePromptTopic(frame);
        } catch (ContractViolation e) {
            assertNotNull(e.code().json());
            return;
        }
        assertNotNull(message.sessionId());
        assertNotNull(message.requestId());
        if (message instanceof PromptRequest prompt) {
            assertTrue((prompt.text() == null) != (prompt.tokenIds() == null), prompt.toString());
            assertNotNull(prompt.paramsOrDefaults());
        }
    }
}
