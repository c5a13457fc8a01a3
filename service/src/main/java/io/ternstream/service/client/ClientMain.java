package io.ternstream.service.client;

import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.Contracts;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code ./ternstream client}: sends one prompt over Kafka and prints the streamed reply. Reads
 * the replies topic from its end before sending, keeps only this request's events, drops
 * duplicates by seq and stops at the terminal event.
 */
public final class ClientMain {
    static final String USAGE = """
            Usage: ./ternstream client --bootstrap-servers HOST:PORT --session ID (--prompt TEXT | --tokens 1,2,3)
                                       [--max-tokens N] [--temperature T] [--seed S] [--request-id ID]
                                       [--json] [--timeout SECONDS] [--prompts-topic T] [--replies-topic T]
              --json    print every reply event as one JSON line (the last is the turn-complete event)
            Without --json the reply text is printed as it streams (token ids when the model has no tokenizer).
            Exit status: 0 when the turn completed, 1 on an error event or timeout, 2 on bad arguments.
            """;

    record Options(String bootstrap, String session, String prompt, List<Integer> tokens, Integer maxTokens,
                   Float temperature, Long seed, String requestId, boolean json, int timeoutSeconds,
                   String promptsTopic, String repliesTopic) {}

    private ClientMain() {}

    public static int run(String... args) {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ternstream client: " + e.getMessage());
            System.err.print(USAGE);
            return 2;
        }
        if (options == null) {
            System.out.print(USAGE);
            return 0;
        }
        quietKafkaLogs();
        return send(options, System.out, System.err);
    }

    static Options parse(String... args) {
        String bootstrap = null, session = null, prompt = null, requestId = null;
        String promptsTopic = Contracts.TOPIC_PROMPTS, repliesTopic = Contracts.TOPIC_REPLIES;
        List<Integer> tokens = null;
        Integer maxTokens = null;
        Float temperature = null;
        Long seed = null;
        boolean json = false;
        int timeout = 120;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                return null;
            }
            if (a.equals("--json")) {
                json = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a.startsWith("--") ? a + " needs a value" : "unexpected " + a);
            }
            String v = args[++i];
            try {
                switch (a) {
                    case "--bootstrap-servers" -> bootstrap = v;
                    case "--session" -> session = v;
                    case "--prompt" -> prompt = v;
                    case "--tokens" -> tokens = Arrays.stream(v.split(",")).map(String::trim).map(Integer::valueOf).toList();
                    case "--max-tokens" -> maxTokens = Integer.valueOf(v);
                    case "--temperature" -> temperature = Float.valueOf(v);
                    case "--seed" -> seed = Long.valueOf(v);
                    case "--request-id" -> requestId = v;
                    case "--timeout" -> timeout = Integer.parseInt(v);
                    case "--prompts-topic" -> promptsTopic = v;
                    case "--replies-topic" -> repliesTopic = v;
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(a + ": not a number: " + v);
            }
        }
        if (bootstrap == null || session == null) {
            throw new IllegalArgumentException("--bootstrap-servers and --session are required");
        }
        if ((prompt == null) == (tokens == null)) {
            throw new IllegalArgumentException("give exactly one of --prompt and --tokens");
        }
        return new Options(bootstrap, session, prompt, tokens, maxTokens, temperature, seed,
                requestId != null ? requestId : UUID.randomUUID().toString(), json, timeout, promptsTopic, repliesTopic);
    }

    static int send(Options o, PrintStream out, PrintStream err) {
        MessageCodec codec = new MessageCodec();
        var params = new GenerationParams(o.maxTokens(), o.temperature(), null, null, null, null, o.seed(), null);
        var request = new PromptRequest(o.session(), o.requestId(), o.prompt(), o.tokens(), params, null);
        byte[] value = codec.encode(request);
        try {
            codec.decodePromptTopic(value); // the same check the service makes, with a message here
        } catch (ContractViolation e) {
            err.println("ternstream client: invalid prompt: " + e.getMessage());
            return 2;
        }
        try (var consumer = new KafkaConsumer<String, byte[]>(consumerProps(o.bootstrap()));
             var producer = new KafkaProducer<String, byte[]>(producerProps(o.bootstrap()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(o.repliesTopic(), Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position); // fix the start before the prompt goes out
            producer.send(new ProducerRecord<>(o.promptsTopic(), o.session(), value)).get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutSeconds());
            Set<Integer> seen = new HashSet<>();
            List<Integer> ids = new ArrayList<>();
            boolean anyText = false;
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (!o.session().equals(r.key())) {
                        continue;
                    }
                    ReplyEvent event;
                    try {
                        event = codec.decodeReply(r.value());
                    } catch (ContractViolation e) {
                        err.println("ternstream client: skipping an unreadable reply: " + e.getMessage());
                        continue;
                    }
                    if (!event.requestId().equals(o.requestId()) || !seen.add(event.seq())) {
                        continue; // another request's, or a duplicate from a redelivered turn
                    }
                    if (o.json()) {
                        out.println(new String(r.value(), StandardCharsets.UTF_8));
                    } else if (event instanceof TokenEvent t) {
                        anyText |= !t.text().isEmpty();
                        ids.addAll(t.tokenIds());
                        out.print(t.text());
                    }
                    out.flush();
                    if (event.terminal()) {
                        return finish(o, event, anyText, ids, out, err);
                    }
                }
            }
            err.println("ternstream client: no complete reply within " + o.timeoutSeconds() + " s");
            return 1;
        } catch (Exception e) {
            err.println("ternstream client: " + e);
            return 1;
        }
    }

    private static int finish(Options o, ReplyEvent last, boolean anyText, List<Integer> ids, PrintStream out,
                              PrintStream err) {
        if (last instanceof ErrorEvent e) {
            if (!o.json()) {
                err.println("error: " + e.code().json() + ": " + e.message());
            }
            return 1;
        }
        if (!o.json() && last instanceof TurnCompleteEvent c) {
            if (c.text() != null) {
                out.print(c.text());
            }
            if (!anyText) {
                out.print(ids.stream().map(String::valueOf).reduce((a, b) -> a + " " + b).orElse(""));
            }
            out.println();
            err.printf("[%s: %d prompt + %d completion tokens, first token %.1f ms, %.1f tokens/s]%n",
                    c.finishReason().json(), c.usage().promptTokens(), c.usage().completionTokens(),
                    c.usage().timeToFirstTokenMs(), c.usage().tokensPerSecond());
        }
        return 0;
    }

    private static Properties consumerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        // with exactly-once delivery only committed events count; with at-least-once this reads the same
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return p;
    }

    private static Properties producerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return p;
    }

    /** Kafka's clients log their whole configuration at INFO; a terminal user wants the reply. */
    private static void quietKafkaLogs() {
        java.util.logging.Logger.getLogger("org.apache.kafka").setLevel(java.util.logging.Level.WARNING);
    }
}
