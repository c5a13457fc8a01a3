package io.ternstream.service.kafka;

import io.ternstream.service.config.ServiceConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.jboss.logging.Logger;

/**
 * Creates the four topics when they are missing and checks the one invariant the design rests on:
 * the session-state topic has exactly as many partitions as the prompts topic, so partition N of
 * both belongs to the same instance.
 */
public final class TopicSetup {
    private static final Logger LOG = Logger.getLogger(TopicSetup.class);

    private TopicSetup() {}

    public static void ensureTopics(Admin admin, ServiceConfig.Topics topics) throws Exception {
        Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        Optional<Short> rf = topics.replicationFactor() < 0 ? Optional.empty() : Optional.of(topics.replicationFactor());
        Optional<Integer> partitions = Optional.of(topics.partitions());
        List<NewTopic> missing = new ArrayList<>();
        if (!existing.contains(topics.prompts())) {
            missing.add(new NewTopic(topics.prompts(), partitions, rf));
        }
        if (!existing.contains(topics.replies())) {
            missing.add(new NewTopic(topics.replies(), partitions, rf));
        }
        if (!existing.contains(topics.deadLetters())) {
            missing.add(new NewTopic(topics.deadLetters(), Optional.of(1), rf));
        }
        if (!existing.contains(topics.sessionState())) {
            int promptPartitions = existing.contains(topics.prompts())
                    ? describe(admin, topics.prompts()).partitions().size() : topics.partitions();
            missing.add(new NewTopic(topics.sessionState(), Optional.of(promptPartitions), rf).configs(Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0",
                    TopicConfig.SEGMENT_MS_CONFIG, "600000")));
        }
        if (!missing.isEmpty()) {
            if (!topics.create()) {
                throw new IllegalStateException("missing topics " + missing.stream().map(NewTopic::name).toList()
                        + " and ternstream.topics.create=false");
            }
            try {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                LOG.infof("created topics %s", missing.stream().map(NewTopic::name).toList());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e; // another instance creating them at the same time is fine
                }
            }
        }
        int prompts = describe(admin, topics.prompts()).partitions().size();
        int state = describe(admin, topics.sessionState()).partitions().size();
        if (prompts != state) {
            throw new IllegalStateException("topic " + topics.sessionState() + " has " + state + " partitions but "
                    + topics.prompts() + " has " + prompts + "; they must be equal (co-partitioned by sessionId)");
        }
    }

    private static TopicDescription describe(Admin admin, String topic)
            throws InterruptedException, ExecutionException, TimeoutException {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
    }
}
