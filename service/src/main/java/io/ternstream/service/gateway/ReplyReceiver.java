package io.ternstream.service.gateway;

import io.ternstream.schemas.ContractViolation;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Hands the reply events of the sessions this replica serves to the {@link ReplyHub}; events of
 * other sessions are dropped without being decoded. Runs on the channel's event-loop thread: the
 * hub's listeners do not block.
 */
@ApplicationScoped
public class ReplyReceiver {
    private static final Logger LOG = Logger.getLogger(ReplyReceiver.class);

    private final Gateway gateway;

    public ReplyReceiver(Gateway gateway) {
        this.gateway = gateway;
    }

    @Incoming(GatewayChannels.REPLIES)
    void receive(ConsumerRecord<String, byte[]> record) {
        ReplyHub hub = gateway.hub();
        if (record.key() == null || record.value() == null || !hub.tracks(record.key())) {
            return;
        }
        try {
            hub.accept(new Reply(gateway.codec().decodeReply(record.value()),
                    new String(record.value(), StandardCharsets.UTF_8)));
        } catch (ContractViolation e) {
            LOG.warnf("gateway: dropped a malformed reply event at %s-%d@%d: %s", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
        }
    }
}
