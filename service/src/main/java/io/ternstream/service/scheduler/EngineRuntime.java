package io.ternstream.service.scheduler;

import io.ternstream.engine.Engine;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;

/** Wires the engine role's parts together: one consumer, one producer, the roles, the loop. */
public final class EngineRuntime implements AutoCloseable {
    private final Scheduler scheduler;
    private final Outbound out;
    private final SessionStateStore store;
    private final Runnable warmup;

    public EngineRuntime(ServiceConfig config, Engine engine, java.util.Properties consumerProps,
                         java.util.Properties restoreProps, java.util.Properties producerProps, Admin admin,
                         ServiceMetrics metrics, Tracing tracing) {
        MessageCodec codec = new MessageCodec();
        this.out = new Outbound(new KafkaProducer<>(producerProps));
        this.store = new SessionStateStore(out, new KafkaConsumer<>(restoreProps), codec, config.topics().sessionState());
        var tokens = new TokenPublisher(out, codec, config.topics().replies());
        var deadLetters = new DeadLetterPublisher(out, config.topics().deadLetters());
        Set<String> knownTopics = ConcurrentHashMap.newKeySet();
        var processor = new PromptProcessor(codec, config.generation(), engine.config().vocabSize(), engine.tokenizer(),
                topic -> knownTopics.contains(topic) || refreshTopics(admin, knownTopics).contains(topic));
        this.warmup = () -> Warmup.run(engine, processor, tokens, codec, config.topics().prompts(),
                config.scheduler().warmup());
        this.scheduler = new Scheduler(config, engine, new KafkaConsumer<>(consumerProps), out, tokens, store,
                deadLetters, processor, codec, metrics, tracing);
    }

    /** replyTo topics are checked once against the broker's list, so a typo cannot block the producer. */
    private static Set<String> refreshTopics(Admin admin, Set<String> known) {
        try {
            known.addAll(admin.listTopics().names().get(5, TimeUnit.SECONDS));
        } catch (Exception e) {
            // unknown stays unknown: the prompt is rejected, not the loop stalled
        }
        return known;
    }

    /** Warms the first-token path up (bounded by ternstream.scheduler.warmup), then starts the loop. */
    public void start() {
        warmup.run();
        scheduler.start();
    }

    public boolean alive() {
        return scheduler.alive();
    }

    @Override
    public void close() throws InterruptedException {
        scheduler.stop();
        out.close(java.time.Duration.ofSeconds(10));
        store.close();
    }
}
