package io.ternstream.service.gateway;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * The topics of this gateway replica, known only once it has started: its own reply topic (named
 * after the replica), the shared replies topic, the owners and prompts topics, and how many
 * partitions each reply and owners topic has (as the broker describes them, not as configured: a
 * topic created elsewhere may have another count).
 */
record GatewayTopics(String replicaReplies, String sharedReplies, String owners, String prompts,
                     Map<String, Integer> partitions) {

    GatewayTopics {
        partitions = Map.copyOf(partitions);
    }

    /** The topics replies arrive on: this replica's (prompts), the shared one (acks and rejections). */
    List<String> replyTopics() {
        return List.of(replicaReplies, sharedReplies);
    }

    List<TopicPartition> partitionsOf(String topic) {
        Integer count = partitions.get(topic);
        if (count == null) {
            throw new IllegalArgumentException("no partition count for topic " + topic);
        }
        return java.util.stream.IntStream.range(0, count).mapToObj(p -> new TopicPartition(topic, p)).toList();
    }
}
