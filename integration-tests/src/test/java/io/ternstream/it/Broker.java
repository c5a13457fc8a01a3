package io.ternstream.it;

import io.ternstream.service.kafka.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/**
 * One real single-node KRaft broker (Apache Kafka's own server) for the whole test JVM, on a free
 * loopback port. Each test class gets its own topics, so classes cannot see each other's records.
 */
final class Broker {
    private static EmbeddedKafkaBroker broker;

    private Broker() {}

    static synchronized String bootstrapServers() {
        if (broker == null) {
            try {
                broker = EmbeddedKafkaBroker.start(0, null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(broker::close));
        }
        return broker.bootstrapServers();
    }

    static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /**
     * Topic names under a prefix, created up front with the partition counts the service expects. state
     * is the session store's changelog, which Kafka Streams names after the engine's group
     * (application id); created here too, so a test can read it from its first record.
     */
    record Topics(String prompts, String replies, String state, String deadLetters, String group) {
        static Topics create(String prefix, int partitions) {
            try (Admin admin = admin()) {
                return create(admin, prefix, partitions);
            }
        }

        /** The same, on the brokers {@code admin} talks to. */
        static Topics create(Admin admin, String prefix, int partitions) {
            Topics t = new Topics(prefix + ".prompts", prefix + ".replies", prefix + "-engine-sessions-changelog",
                    prefix + ".dlq", prefix + "-engine");
            try {
                admin.createTopics(List.of(
                        new NewTopic(t.prompts, Optional.of(partitions), Optional.empty()),
                        new NewTopic(t.replies, Optional.of(partitions), Optional.empty()),
                        new NewTopic(t.deadLetters, Optional.of(1), Optional.empty()),
                        new NewTopic(t.state, Optional.of(partitions), Optional.empty())
                                .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
                        .all().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("cannot create topics for " + prefix, e);
            }
            return t;
        }

        List<String> serviceArgs() {
            return List.of("-Dternstream.topics.prompts=" + prompts, "-Dternstream.topics.replies=" + replies,
                    "-Dternstream.topics.dead-letters=" + deadLetters,
                    "-Dternstream.kafka.group-id=" + group);
        }
    }
}
