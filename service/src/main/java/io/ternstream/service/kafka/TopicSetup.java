package io.ternstream.service.kafka;

import io.ternstream.service.config.ServiceConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.jboss.logging.Logger;

/**
 * Creates the prompts, replies and dead-letter topics when they are missing. The session stores'
 * changelog topics are Kafka Streams' own: it creates them with the prompts topic's partition count.
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
    }
}
