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

    /** Limits of a request, enforced by the gateway and again by the engine (the prompts topic is open to other producers). */
    Limits limits();

    /**
     * exactly-once: a turn's reply events, its session's record and the consumed prompt offsets are
     * committed in one Kafka transaction, so read_committed consumers see each event once, across
     * crashes, at the cost of events becoming visible only at each commit. at-least-once: events are
     * visible as soon as they are sent; after a crash a redone turn may repeat events, identical to
     * the first ones (consumers drop them by requestId and seq).
     */
    @WithDefault("at-least-once")
    Delivery delivery();

    enum Delivery {
        EXACTLY_ONCE("exactly-once"), AT_LEAST_ONCE("at-least-once");

        private final String name;

        Delivery(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return name;
        }

        /** Parses exactly-once / at-least-once (the config converter and the command line share it). */
        public static Delivery of(String value) {
            for (Delivery d : values()) {
                if (d.name.equals(value)) {
                    return d;
                }
            }
            throw new IllegalArgumentException("delivery must be exactly-once or at-least-once, not '" + value + "'");
        }
    }

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

        /** The engine role's consumer group, also its Kafka Streams application id (the changelogs' prefix). */
        @WithName("group-id")
        @WithDefault(Contracts.ENGINE_GROUP)
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
         * On a 2-core AVX2 machine 1 ms made no difference beyond the noise (docs/PERFORMANCE.md,
         * "Service").
         */
        @WithName("producer-linger")
        @WithDefault("0ms")
        Duration producerLinger();

        /**
         * Standby replicas of each partition's session store, kept up to date from its changelog on other
         * instances: a partition that moves to a caught-up standby serves at once, without replaying history.
         */
        @WithName("standby-replicas")
        @WithDefault("0")
        int standbyReplicas();

        /**
         * Folder of the local session stores (RocksDB) and their checkpoints. A restart with the same folder
         * restores only the changelog's tail. Absent: a new temporary folder per process.
         */
        @WithName("state-dir")
        Optional<String> stateDir();

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

        @WithName("dead-letters")
        @WithDefault(Contracts.TOPIC_DEAD_LETTERS)
        String deadLetters();

        /** Create missing topics at start. */
        @WithDefault("true")
        boolean create();

        /** Partitions of prompts and replies (the session store's changelog gets as many as prompts). */
        @WithDefault("4")
        int partitions();

        /** -1 = the broker's default. */
        @WithName("replication-factor")
        @WithDefault("-1")
        short replicationFactor();
    }

    interface Scheduler {
        /** Most sessions advanced by one batched engine step; more wait for a free place, in arrival order. */
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

        /**
         * How often the session stores are flushed and offsets committed (with exactly-once, how often a
         * transaction commits: events become visible to read_committed consumers at this pace).
         */
        @WithName("commit-interval")
        @WithDefault("100ms")
        Duration commitInterval();

        /**
         * Bytes of session records cached in memory above the stores (writes between commits are coalesced
         * there). Memory beyond the sessions with work is bounded by this and {@link #storeMemory()}.
         */
        @WithName("state-cache")
        @WithDefault("33554432")
        long stateCache();

        /** Bytes of RocksDB block cache and write buffers shared by all session stores of the instance. */
        @WithName("store-memory")
        @WithDefault("67108864")
        long storeMemory();

        /**
         * Longest wait of the Kafka thread for new records; also the longest delay between a token leaving
         * the engine and its record being handed to the producer.
         */
        @WithName("poll-interval")
        @WithDefault("1ms")
        Duration pollInterval();

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

    interface Limits {
        @WithName("max-prompt-tokens")
        @WithDefault("8192")
        int maxPromptTokens();

        /** Largest maxTokens a request may ask for. */
        @WithName("max-tokens")
        @WithDefault("4096")
        int maxTokens();
    }

    interface Generation {
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
