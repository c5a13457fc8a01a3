package io.ternstream.service.gateway;

import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Applies the owners topic, from its beginning, to the {@link SessionOwners} table, in offset
 * order, and tells when the records present at start have all been applied.
 */
@ApplicationScoped
public class OwnersReader {
    private final Gateway gateway;
    private final TopicCatchUp catchUp = new TopicCatchUp();

    public OwnersReader(Gateway gateway) {
        this.gateway = gateway;
    }

    @Incoming(GatewayChannels.OWNERS)
    void receive(ConsumerRecord<String, String> record) {
        if (record.key() != null) {
            gateway.owners().apply(record.key(), record.value());
        }
        catchUp.applied(record.partition(), record.offset());
    }

    TopicCatchUp catchUp() {
        return catchUp;
    }
}
