package io.ternstream.service.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import io.ternstream.schemas.Contracts;
import java.time.Duration;
import java.util.Optional;

/** Every tunable of the service, read once (prefix "ternstream"). */
@ConfigMapping(prefix = "ternstream")
public interface ServiceConfig {

    /** engine: runs the model and consumes prompts; gateway: only the client-facing side; all: both. */
    @WithDefault("all")
    Role role();

    /** Repository root (set by the launcher); the bundled model is found under it. */
    @WithDefault(".")
    String home();

    Model model();

    Kafka kafka();

    Topics topics();

    Scheduler scheduler();

    Generation generation();

    enum Role {
        engine, gateway, all;

        public boolean runsEngine() {
            return this != gateway;
        }

        public boolean runsGateway() {
            return this != engine;
        }
    }

    interface Model {
        /** Model folder; when absent, models/ternstream-tiny under ternstream.home. */
        Optional<String> dir();

        /** Engine worker threads; 0 = the engine's default. */
        @WithDefault("0")
        int threads();
    }

    interface Kafka {
        /** When absent, an embedded single-node KRaft broker is started. */
        @WithName("bootstrap-servers")
        Optional<String> bootstrapServers();

        Embedded embedded();

        @WithName("group-id")
        @WithDefault("ternstream-engine")
        String groupId();

        /**
         * Static group membership (e.g. the pod name of a StatefulSet): a restarted instance with the same
         * id gets its partitions back without a rebalance, if it returns within the session timeout.
         */
        @WithName("group-instance-id")
        Optional<String> groupInstanceId();

        /** How soon the group notices a dead instance and hands its partitions to another. */
        @WithName("session-timeout")
        @WithDefault("10s")
        Duration sessionTimeout();

        /**
         * The reply producer's linger. 0 sends every token event at once; a millisecond lets one step's
         * events for many sessions travel in fewer requests, at up to a millisecond more to each token.
         * On the 2-core development VM 1 ms made no difference beyond the noise (docs/PERFORMANCE.md,
         * "Service").
         */
        @WithName("producer-linger")
        @WithDefault("0ms")
        Duration producerLinger();

        interface Embedded {
            @WithDefault("9092")
            int port();

            /** Broker data folder; when absent a temporary folder removed at exit. */
            @WithName("data-dir")
            Optional<String> dataDir();
        }
    }

    interface Topics {
        @WithDefault(Contracts.TOPIC_PROMPTS)
        String prompts();

        @WithDefault(Contracts.TOPIC_REPLIES)
        String replies();

        @WithName("session-state")
        @WithDefault(Contracts.TOPIC_SESSION_STATE)
        String sessionState();

        @WithName("dead-letters")
        @WithDefault(Contracts.TOPIC_DEAD_LETTERS)
        String deadLetters();

        /** Create missing topics at start. */
        @WithDefault("true")
        boolean create();

        /** Partitions of prompts and session-state (they must be equal) and of replies. */
        @WithDefault("4")
        int partitions();

        /** -1 = the broker's default. */
        @WithName("replication-factor")
        @WithDefault("-1")
        short replicationFactor();
    }

    interface Scheduler {
        /** Sessions with a running or queued turn; at this bound Kafka consumption pauses. */
        @WithName("max-active-sessions")
        @WithDefault("256")
        int maxActiveSessions();

        /** Most sessions advanced by one batched engine step. */
        @WithName("max-batch")
        @WithDefault("128")
        int maxBatch();

        /** Prompt tokens prefilled per iteration across all sessions, so decoding is never stalled long. */
        @WithName("prefill-chunk-tokens")
        @WithDefault("128")
        int prefillChunkTokens();

        /** Idle sessions are dropped (tombstoned) after this long. */
        @WithName("session-ttl")
        @WithDefault("24h")
        Duration sessionTtl();

        /** How often completed offsets are committed. */
        @WithName("commit-interval")
        @WithDefault("100ms")
        Duration commitInterval();

        /**
         * Time spent at start, before the first record is read, running the first-token path (record
         * decoding, prefill, sampling, token encoding) on made-up data so the JIT has compiled it; 0s: none.
         */
        @WithName("warmup")
        @WithDefault("5s")
        Duration warmup();

        /** How long to finish in-flight turns on shutdown before abandoning them to redelivery. */
        @WithName("drain-timeout")
        @WithDefault("10s")
        Duration drainTimeout();
    }

    interface Generation {
        @WithName("max-prompt-tokens")
        @WithDefault("8192")
        int maxPromptTokens();

        /** Largest maxTokens a request may ask for. */
        @WithName("max-tokens-limit")
        @WithDefault("4096")
        int maxTokensLimit();

        @WithName("default-max-tokens")
        @WithDefault("128")
        int defaultMaxTokens();

        @WithName("default-temperature")
        @WithDefault("0.7")
        float defaultTemperature();

        @WithName("default-top-p")
        @WithDefault("0.95")
        float defaultTopP();
    }
}
