package io.ternstream.schemas;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.serialization.JsonMapperFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * JSON encoding and schema-checked decoding of every message. Decoding validates against the
 * message's JSON Schema before binding, so what reaches the service has passed the published
 * contract, and a rejection says which field broke which rule. Thread-safe.
 */
public final class MessageCodec {
    /** Schema ids resolve to this classpath folder; nothing is ever fetched over the network. */
    public static final String SCHEMA_ID_PREFIX = "https://ternstream.invalid/schemas/";
    public static final String SCHEMA_RESOURCE_DIR = "ternstream/schemas/";

    private static final int MAX_ERRORS_IN_MESSAGE = 5;

    private final ObjectMapper mapper = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);
    private final Map<String, Schema> promptTopicSchemas = new LinkedHashMap<>();
    private final Map<String, Schema> replySchemas = new LinkedHashMap<>();
    private final Schema snapshotSchema;

    public MessageCodec() {
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
                builder -> builder.schemaLoader(loader -> loader
                        .fetchRemoteResources(false)
                        .schemaIdResolvers(ids -> ids.mapPrefix(SCHEMA_ID_PREFIX, "classpath:" + SCHEMA_RESOURCE_DIR))));
        promptTopicSchemas.put(Contracts.TYPE_PROMPT, load(registry, "prompt-request"));
        promptTopicSchemas.put(Contracts.TYPE_CANCEL, load(registry, "cancel-command"));
        promptTopicSchemas.put(Contracts.TYPE_RESET, load(registry, "reset-command"));
        promptTopicSchemas.put(Contracts.TYPE_FORK, load(registry, "fork-command"));
        promptTopicSchemas.put(Contracts.TYPE_DELETE, load(registry, "delete-command"));
        promptTopicSchemas.put(Contracts.TYPE_IMPORT, load(registry, "session-import"));
        replySchemas.put(Contracts.TYPE_TOKEN, load(registry, "token-event"));
        replySchemas.put(Contracts.TYPE_COMPLETE, load(registry, "turn-complete-event"));
        replySchemas.put(Contracts.TYPE_ERROR, load(registry, "error-event"));
        replySchemas.put(Contracts.TYPE_ACK, load(registry, "control-ack-event"));
        snapshotSchema = load(registry, "session-snapshot");
    }

    private static Schema load(SchemaRegistry registry, String name) {
        Schema schema = registry.getSchema(SchemaLocation.of(SCHEMA_ID_PREFIX + name + ".schema.json"));
        schema.initializeValidators(); // resolve $refs now, not on the first message
        return schema;
    }

    /** Serialises any contract record (messages, events, snapshots) as UTF-8 JSON. */
    public byte[] encode(Object message) {
        try {
            return mapper.writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode " + message.getClass().getSimpleName(), e);
        }
    }

    public String encodeToString(Object message) {
        try {
            return mapper.writeValueAsString(message);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode " + message.getClass().getSimpleName(), e);
        }
    }

    /** Decodes a prompts-topic record value: a prompt, a control command or an import. */
    public PromptTopicMessage decodePromptTopic(byte[] json) throws ContractViolation {
        return decodeTyped(json, promptTopicSchemas, PromptTopicMessage.class);
    }

    /** Decodes a replies-topic record value. */
    public ReplyEvent decodeReply(byte[] json) throws ContractViolation {
        return decodeTyped(json, replySchemas, ReplyEvent.class);
    }

    /** Decodes a session-state topic value (not null: a null value is a tombstone). */
    public SessionSnapshot decodeSnapshot(byte[] json) throws ContractViolation {
        JsonNode tree = parse(json);
        String sessionId = safeId(text(tree, "sessionId"));
        check(snapshotSchema, json, sessionId, null);
        return bind(tree, SessionSnapshot.class, sessionId, null);
    }

    private <T> T decodeTyped(byte[] json, Map<String, Schema> schemas, Class<T> type) throws ContractViolation {
        JsonNode tree = parse(json);
        String sessionId = safeId(text(tree, "sessionId"));
        String requestId = safeId(text(tree, "requestId"));
        String kind = text(tree, "type");
        Schema schema = kind == null ? null : schemas.get(kind);
        if (schema == null) {
            throw new ContractViolation(ErrorCode.SCHEMA_VIOLATION,
                    "$.type: must be one of " + schemas.keySet() + " but is " + tree.get("type"), sessionId, requestId);
        }
        check(schema, json, sessionId, requestId);
        return bind(tree, type, sessionId, requestId);
    }

    private JsonNode parse(byte[] json) throws ContractViolation {
        if (json == null || json.length == 0) {
            throw new ContractViolation(ErrorCode.MALFORMED_JSON, "empty record value; expected a JSON object", null, null);
        }
        JsonNode tree;
        try {
            tree = mapper.readTree(json);
        } catch (IOException e) {
            throw new ContractViolation(ErrorCode.MALFORMED_JSON, "not valid JSON: " + firstLine(e.getMessage()), null, null);
        }
        if (tree == null || !tree.isObject()) {
            throw new ContractViolation(ErrorCode.MALFORMED_JSON,
                    "expected a JSON object but got " + (tree == null ? "nothing" : tree.getNodeType()), null, null);
        }
        return tree;
    }

    /**
     * Validates the record's bytes as read by the validator's own JSON reader (the one it would use for
     * a string), without first writing the already parsed tree back out as a string: a prompt is decoded
     * on the engine thread, ahead of its first token.
     */
    private void check(Schema schema, byte[] json, String sessionId, String requestId) throws ContractViolation {
        List<Error> errors;
        try {
            errors = schema.validate(JsonMapperFactory.getInstance().readTree(json));
        } catch (tools.jackson.core.JacksonException e) { // parse() has accepted it already; kept for safety
            throw new ContractViolation(ErrorCode.MALFORMED_JSON, "not valid JSON: " + firstLine(e.getMessage()),
                    sessionId, requestId);
        }
        if (!errors.isEmpty()) {
            String message = errors.stream().limit(MAX_ERRORS_IN_MESSAGE).map(MessageCodec::describe)
                    .collect(Collectors.joining("; "));
            if (errors.size() > MAX_ERRORS_IN_MESSAGE) {
                message += "; and " + (errors.size() - MAX_ERRORS_IN_MESSAGE) + " more";
            }
            throw new ContractViolation(ErrorCode.SCHEMA_VIOLATION, message, sessionId, requestId);
        }
    }

    private <T> T bind(JsonNode tree, Class<T> type, String sessionId, String requestId) throws ContractViolation {
        try {
            return mapper.treeToValue(tree, type);
        } catch (JsonProcessingException e) {
            throw new ContractViolation(ErrorCode.SCHEMA_VIOLATION, "cannot bind: " + firstLine(e.getOriginalMessage()),
                    sessionId, requestId);
        }
    }

    /** "$.params.temperature: must have a minimum value of 0" (JSONPath, which people read more easily). */
    private static String describe(Error error) {
        StringBuilder path = new StringBuilder("$");
        var location = error.getInstanceLocation();
        for (int i = 0; i < location.getNameCount(); i++) {
            Object element = location.getElement(i);
            path.append(element instanceof Integer index ? "[" + index + "]" : "." + element);
        }
        String message = error.getMessage();
        return message.startsWith(path + ":") ? message : path + ": " + message;
    }

    private static String text(JsonNode tree, String field) {
        JsonNode node = tree.get(field);
        return node != null && node.isTextual() ? node.asText() : null;
    }

    /** An id is only trusted for an error reply when it is itself valid. */
    private static String safeId(String id) {
        return id != null && id.length() <= 128 && id.matches("[A-Za-z0-9._:@-]+") ? id : null;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** For tests and tools: the parsed tree of an encoded message. */
    public JsonNode tree(byte[] json) {
        try {
            return mapper.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
