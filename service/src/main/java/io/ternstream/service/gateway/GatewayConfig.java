package io.ternstream.service.gateway;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Every tunable of the gateway role (prefix "ternstream.gateway"), read once. */
@ConfigMapping(prefix = "ternstream.gateway")
public interface GatewayConfig {

    /**
     * Names this replica's reply topic (replies-topic + ".gw-" + id). A stable id (a StatefulSet
     * pod name) lets a restarted replica find its topic again; absent: the host name.
     */
    @WithName("replica-id")
    Optional<String> replicaId();

    /** How long reply events stay in a replica's reply topic: the window for resuming after a restart. */
    @WithName("reply-retention")
    @WithDefault("1h")
    Duration replyRetention();

    /** Compacted topic mapping sessionId to the API key that created it, shared by all replicas. */
    @WithName("owners-topic")
    @WithDefault("ternstream.gateway.session-owners")
    String ownersTopic();

    Security security();

    Limits limits();

    Chat chat();

    /** The model id clients pass and /v1/models lists; absent: the model folder's name. */
    @WithName("model-name")
    Optional<String> modelName();

    /** Events kept per session for clients that reconnect with their last seen seq. */
    @WithName("resume-buffer-events")
    @WithDefault("2048")
    int resumeBufferEvents();

    /** A request with no answer by then gets 504 (HTTP) or an error event (WebSocket). */
    @WithName("request-timeout")
    @WithDefault("120s")
    Duration requestTimeout();

    interface Security {
        /** API keys in clear (for local use); prefer api-key-hashes in deployments. */
        @WithName("api-keys")
        Optional<List<String>> apiKeys();

        /** Hex SHA-256 digests of the API keys. */
        @WithName("api-key-hashes")
        Optional<List<String>> apiKeyHashes();

        /** Refuse to start without keys (production). Without this, keys are checked only when some are configured. */
        @WithName("require-api-keys")
        @WithDefault("false")
        boolean requireApiKeys();

        /**
         * Origins a browser may open the WebSocket from. Absent: only the gateway's own origin
         * (the chat page). Clients that send no Origin header (not browsers) are not affected.
         */
        @WithName("allowed-origins")
        Optional<List<String>> allowedOrigins();
    }

    interface Limits {
        /** Largest HTTP body or WebSocket message, in bytes. */
        @WithName("max-message-bytes")
        @WithDefault("65536")
        int maxMessageBytes();

        /** Sustained requests per second per API key (prompts and commands alike). */
        @WithName("requests-per-second")
        @WithDefault("20")
        double requestsPerSecond();

        /** Requests a key may make at once before the per-second rate applies. */
        @WithDefault("40")
        int burst();
    }

    /** How chat messages become prompt text: role prefixes, one message per line. */
    interface Chat {
        @WithName("system-prefix")
        @WithDefault("System: ")
        String systemPrefix();

        @WithName("user-prefix")
        @WithDefault("User: ")
        String userPrefix();

        @WithName("assistant-prefix")
        @WithDefault("Assistant:")
        String assistantPrefix();

        /** Conversations remembered per replica for prefix matching. */
        @WithName("remembered-conversations")
        @WithDefault("10000")
        int rememberedConversations();
    }
}
