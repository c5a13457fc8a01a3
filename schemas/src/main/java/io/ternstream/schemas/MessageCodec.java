package io.ternstream.schemas;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON encoding and schema-checked decoding of every message. Decoding parses the bytes once into a
 * tree, validates that tree against the message's JSON Schema and binds the same tree to the record,
 * so what reaches the service has passed the published contract, and a rejection says which field
 * broke which rule. One Jackson (the validator's) does all three. Thread-safe.
 */
public final class MessageCodec {
    /** Schema ids resolve to this classpath folder; nothing is ever fetched over the network. */
    public static final String SCHEMA_ID_PREFIX = "https://ternstream.invalid/schemas/";
    public static final String SCHEMA_RESOURCE_DIR = "ternstream/schemas/";

    /**
     * Limits of the reader, far above any valid message and far below what would hurt: a record is
     * refused as malformed before its nesting can exhaust the validator's stack, or a claimed length
     * can make the parser allocate. The largest valid value is a session state in base64 (a few
     * hundred KB for the published models); the deepest valid nesting is four levels.
     */
    static final long MAX_DOCUMENT_BYTES = 16L << 20;
    static final int MAX_STRING_CHARS = 16 << 20;
    static final int MAX_NESTING_DEPTH = 32;
    static final int MAX_NUMBER_CHARS = 64;
    static final int MAX_NAME_CHARS = 256;
    static final StreamReadConstraints READ_LIMITS = StreamReadConstraints.builder()
            .maxDocumentLength(MAX_DOCUMENT_BYTES)
            .maxStringLength(MAX_STRING_CHARS)
            .maxNestingDepth(MAX_NESTING_DEPTH)
            .maxNumberLength(MAX_NUMBER_CHARS)
            .maxNameLength(MAX_NAME_CHARS)
            .build();

    private static final int MAX_ERRORS_IN_MESSAGE = 5;

    private final JsonMapper mapper = JsonMapper.builder(JsonFactory.builder().streamReadConstraints(READ_LIMITS).build())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY) // fields on the wire in declaration order
            .build();
    private final Map<String, Schema> promptTopicSchemas = new LinkedHashMap<>();
    private final Map<String, Schema> replySchemas = new LinkedHashMap<>();

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
    }

    private static Schema load(SchemaRegistry registry, String name) {
        Schema schema = registry.getSchema(SchemaLocation.of(SCHEMA_ID_PREFIX + name + ".schema.json"));
        schema.initializeValidators(); // resolve $refs now, not on the first message
        return schema;
    }

    /** Serialises any contract record (messages and events) as UTF-8 JSON. */
    public byte[] encode(Object message) {
        try {
            return mapper.writeValueAsBytes(message);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("cannot encode " + message.getClass().getSimpleName(), e);
        }
    }

    public String encodeToString(Object message) {
        try {
            return mapper.writeValueAsString(message);
        } catch (JacksonException e) {
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
        check(schema, tree, sessionId, requestId);
        return bind(tree, type, sessionId, requestId);
    }

    private JsonNode parse(byte[] json) throws ContractViolation {
        if (json == null || json.length == 0) {
            throw new ContractViolation(ErrorCode.MALFORMED_JSON, "empty record value; expected a JSON object", null, null);
        }
        JsonNode tree;
        try {
            tree = mapper.readTree(json);
        } catch (JacksonException e) {
            throw new ContractViolation(ErrorCode.MALFORMED_JSON, "not valid JSON" + where(e.getLocation()) + ": "
                    + firstLine(e.getOriginalMessage()), null, null);
        }
        if (tree == null || !tree.isObject()) {
            throw new ContractViolation(ErrorCode.MALFORMED_JSON,
                    "expected a JSON object but got " + (tree == null ? "nothing" : tree.getNodeType()), null, null);
        }
        return tree;
    }

    private void check(Schema schema, JsonNode tree, String sessionId, String requestId) throws ContractViolation {
        List<Error> errors = schema.validate(tree);
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
        } catch (JacksonException e) {
            throw new ContractViolation(ErrorCode.SCHEMA_VIOLATION, "cannot bind: " + firstLine(e.getOriginalMessage()),
                    sessionId, requestId);
        }
    }

    /** " at line 1, column 18": where the reader gave up, as an editor counts. */
    private static String where(TokenStreamLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
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
        return node != null && node.isString() ? node.stringValue() : null;
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
        return mapper.readTree(json);
    }
}
