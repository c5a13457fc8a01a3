package io.ternstream.schemas;

/**
 * Names shared by the service, its clients and the tests: default topic names, header names and
 * the message type discriminators. Topic names are only defaults; the service reads the real names
 * from its configuration.
 */
public final class Contracts {
    private Contracts() {}

    /** Default topic names. */
    public static final String TOPIC_PROMPTS = "ternstream.prompts";
    public static final String TOPIC_REPLIES = "ternstream.replies";
    public static final String TOPIC_DEAD_LETTERS = "ternstream.dead-letters";

    /**
     * The engine role's default consumer group, which is also its Kafka Streams application id and so
     * the prefix of its stores' changelog topics (binary values: schemas/session-store.md).
     */
    public static final String ENGINE_GROUP = "ternstream-engine";
    public static final String SESSIONS_CHANGELOG = ENGINE_GROUP + "-sessions-changelog";
    public static final String PENDING_CHANGELOG = ENGINE_GROUP + "-pending-changelog";

    /** Reply-event headers: let a consumer route and de-duplicate without parsing the value. */
    public static final String HEADER_EVENT_TYPE = "ternstream-event-type";
    public static final String HEADER_REQUEST_ID = "ternstream-request-id";
    public static final String HEADER_SEQ = "ternstream-seq";

    /** Dead-letter headers: why the original record was rejected and where it came from. */
    public static final String HEADER_DLQ_REASON = "ternstream-dlq-reason";
    public static final String HEADER_DLQ_CODE = "ternstream-dlq-code";
    public static final String HEADER_DLQ_TOPIC = "ternstream-dlq-topic";
    public static final String HEADER_DLQ_PARTITION = "ternstream-dlq-partition";
    public static final String HEADER_DLQ_OFFSET = "ternstream-dlq-offset";

    /** W3C trace context, carried on prompts, replies and state records. */
    public static final String HEADER_TRACEPARENT = "traceparent";
    public static final String HEADER_TRACESTATE = "tracestate";

    /** Values of the "type" field of messages on the prompts topic. */
    public static final String TYPE_PROMPT = "prompt";
    public static final String TYPE_CANCEL = "cancel";
    public static final String TYPE_RESET = "reset";
    public static final String TYPE_FORK = "fork";
    public static final String TYPE_DELETE = "delete";
    public static final String TYPE_IMPORT = "import";

    /** Values of the "type" field of reply events. */
    public static final String TYPE_TOKEN = "token";
    public static final String TYPE_COMPLETE = "complete";
    public static final String TYPE_ERROR = "error";
    public static final String TYPE_ACK = "ack";
}
