package io.ternstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The AsyncAPI document is well formed, its references resolve, and it names the topics the code uses. */
class AsyncApiTest {
    private final JsonNode doc = new YAMLMapper().readTree(Path.of("asyncapi.yaml").toFile());

    @Test
    void isAnAsyncApi3DocumentWhoseReferencesResolve() {
        assertEquals("3.0.0", doc.path("asyncapi").asString());
        JsonNode channels = doc.path("channels");
        assertFalse(channels.isEmpty());
        for (JsonNode channel : channels) {
            for (JsonNode message : channel.path("messages")) {
                assertNotNull(resolve(message.path("$ref").asString()), "unresolved " + message);
            }
        }
        for (JsonNode operation : doc.path("operations")) {
            assertNotNull(resolve(operation.path("channel").path("$ref").asString()));
        }
        for (JsonNode message : doc.path("components").path("messages")) {
            for (JsonNode trait : message.path("traits")) {
                assertNotNull(resolve(trait.path("$ref").asString()));
            }
            String schemaRef = message.path("payload").path("schema").path("$ref").asString();
            if (!schemaRef.isEmpty()) {
                assertTrue(Files.isRegularFile(Path.of(schemaRef)), "missing payload schema " + schemaRef);
            }
        }
    }

    @Test
    void channelAddressesAreTheDefaultTopicNames() {
        Map<String, String> expected = Map.of("prompts", Contracts.TOPIC_PROMPTS, "replies", Contracts.TOPIC_REPLIES,
                "sessionStore", Contracts.SESSIONS_CHANGELOG, "pendingStore", Contracts.PENDING_CHANGELOG,
                "deadLetters", Contracts.TOPIC_DEAD_LETTERS);
        expected.forEach((channel, topic) ->
                assertEquals(topic, doc.path("channels").path(channel).path("address").asString(), channel));
        JsonNode dlqHeaders = doc.path("components").path("messages").path("deadLetter").path("headers").path("properties");
        for (String header : new String[] {Contracts.HEADER_DLQ_REASON, Contracts.HEADER_DLQ_CODE,
                Contracts.HEADER_DLQ_TOPIC, Contracts.HEADER_DLQ_PARTITION, Contracts.HEADER_DLQ_OFFSET}) {
            assertTrue(dlqHeaders.has(header), "dead-letter header " + header + " undocumented");
        }
    }

    /** A local reference "#/a/b" to the node, or null. */
    private JsonNode resolve(String ref) {
        assertTrue(ref.startsWith("#/"), "expected a local reference: " + ref);
        JsonNode node = doc.at(ref.substring(1));
        return node.isMissingNode() ? null : node;
    }
}
