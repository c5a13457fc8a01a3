package io.ternstream.it;

import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** What a test needs to talk to the service over Kafka: send prompts, record every reply. */
final class Clients implements AutoCloseable {
    static final MessageCodec CODEC = new MessageCodec();

    /** One reply record as received, with its receive time and trace header. */
    record Received(ReplyEvent event, long nanos, String traceparent, long recordTimestamp, long receivedMillis) {}

    private final Broker.Topics topics;
    private final KafkaProducer<String, byte[]> producer;
    private final TopicReader replyReader;
    private final TopicReader deadLetterReader;
    private final TopicReader stateReader;
    /** Every reply event per session, in arrival order, duplicates included. */
    final Map<String, List<Received>> replies = new ConcurrentHashMap<>();
    final List<ConsumerRecord<String, byte[]>> deadLetters = new CopyOnWriteArrayList<>();
    /** Every record of the session store's changelog (null value = tombstone). */
    final List<ConsumerRecord<String, byte[]>> stateRecords = new CopyOnWriteArrayList<>();

    Clients(Broker.Topics topics) {
        this.topics = topics;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        producer = new KafkaProducer<>(p);
        replyReader = reader(topics.replies(), r -> {
            try {
                ReplyEvent e = CODEC.decodeReply(r.value());
                var trace = r.headers().lastHeader("traceparent");
                replies.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>()).add(new Received(e, System.nanoTime(),
                        trace == null ? null : new String(trace.value(), java.nio.charset.StandardCharsets.UTF_8),
                        r.timestamp(), System.currentTimeMillis()));
            } catch (ContractViolation e) {
                throw new AssertionError("the service wrote a reply that breaks its own contract: " + e.getMessage());
            }
        });
        deadLetterReader = reader(topics.deadLetters(), deadLetters::add);
        stateReader = reader(topics.state(), stateRecords::add);
    }

    private TopicReader reader(String topic, java.util.function.Consumer<ConsumerRecord<String, byte[]>> sink) {
        return new TopicReader(Broker.bootstrapServers(), topic, sink);
    }

    /** Sends and returns the record's timestamp (its create time, by this producer's clock). */
    long send(PromptTopicMessage message) {
        return sendRaw(message.sessionId(), CODEC.encode(message), Map.of());
    }

    /**
     * Sends every message at once, as a burst of users would, then waits until all are acknowledged
     * (send waits for each acknowledgement before the next record: 32 of those took tens of milliseconds).
     */
    void sendAll(List<? extends PromptTopicMessage> messages) {
        var acks = messages.stream()
                .map(m -> producer.send(new ProducerRecord<>(topics.prompts(), m.sessionId(), CODEC.encode(m))))
                .toList();
        try {
            for (var ack : acks) ack.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    void sendRaw(String key, byte[] value) {
        sendRaw(key, value, Map.of());
    }

    long sendRaw(String key, byte[] value, Map<String, String> headers) {
        var record = new ProducerRecord<>(topics.prompts(), key, value);
        headers.forEach((k, v) -> record.headers().add(k, v.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        try {
            return producer.send(record).get(10, TimeUnit.SECONDS).timestamp();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static PromptRequest tokens(String session, String request, List<Integer> ids, int maxTokens) {
        return PromptRequest.ofTokens(session, request, ids, new GenerationParams(maxTokens, 0f, null, null, null, null,
                null, null));
    }

    static PromptRequest sampled(String session, String request, List<Integer> ids, int maxTokens) {
        return PromptRequest.ofTokens(session, request, ids, new GenerationParams(maxTokens, 0.9f, 0.95f, null, null,
                null, null, null));
    }

    List<Received> events(String session) {
        return replies.getOrDefault(session, List.of());
    }

    /** The events of one request, duplicates dropped by seq (first arrival kept). */
    List<ReplyEvent> request(String session, String requestId) {
        Map<Integer, ReplyEvent> bySeq = new LinkedHashMap<>();
        for (Received r : events(session)) {
            if (r.event().requestId().equals(requestId)) {
                bySeq.putIfAbsent(r.event().seq(), r.event());
            }
        }
        return new ArrayList<>(bySeq.values());
    }

    boolean completed(String session, String requestId) {
        return request(session, requestId).stream().anyMatch(ReplyEvent::terminal);
    }

    TurnCompleteEvent completion(String session, String requestId) {
        return request(session, requestId).stream().filter(e -> e instanceof TurnCompleteEvent)
                .map(e -> (TurnCompleteEvent) e).findFirst().orElseThrow();
    }

    List<Integer> generated(String session, String requestId) {
        List<Integer> ids = new ArrayList<>();
        for (ReplyEvent e : request(session, requestId)) {
            if (e instanceof TokenEvent t) {
                ids.addAll(t.tokenIds());
            }
        }
        return Collections.unmodifiableList(ids);
    }

    @Override
    public void close() throws InterruptedException {
        replyReader.close();
        deadLetterReader.close();
        stateReader.close();
        producer.close(Duration.ofSeconds(5));
    }
}
