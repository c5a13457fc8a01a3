package io.ternstream.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Abuse of the public API, black-box: the packaged service as a child process, a real KRaft broker,
 * and clients that flood, hold thousands of idle WebSockets, never read, or send what no client
 * should. Every refusal must be the documented status and error code (docs/GATEWAY.md), never a 500
 * nor a silently dropped connection, and the service must stay ready and serve a normal request
 * afterwards. Figures go to target/abuse/report.txt.
 */
class PublicApiAbuseIT {
    private static final String KEY_A = "abuse-key-a";
    private static final String KEY_B = "abuse-key-b";
    private static final String KEY_C = "abuse-key-c";
    private static final String KEYS = "-Dternstream.gateway.security.api-keys=" + KEY_A + "," + KEY_B + "," + KEY_C;
    private static final String MODEL = "ternstream-abuse";
    private static final String OWNERS = "abuse-it.owners";
    /** The documented defaults, set explicitly so the expectations below can be read next to them. */
    private static final int MAX_MESSAGE_BYTES = 65_536;
    private static final int MAX_TOKENS = 1024;
    /** The WebSocket layer's hard cap (quarkus.websockets-next.server.max-message-size). */
    private static final int HARD_CAP_BYTES = 1_048_576;
    /** The flood gateway's limits: low, so that a flood is refused within a few requests. */
    private static final int FLOOD_RATE = 2;
    private static final int FLOOD_BURST = 5;
    private static final Path REPORT = Path.of("target", "abuse", "report.txt");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RUN = Long.toString(System.currentTimeMillis(), 36);
    /** Where a test splices bytes into a JSON text. */
    private static final String MARK = "SPLICE";

    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static Broker.Topics topics;
    private static ServiceProcess service;

    @BeforeAll
    static void start() throws IOException {
        Files.createDirectories(REPORT.getParent());
        Files.writeString(REPORT, "");
        topics = Broker.Topics.create("abuse-it", 4);
        // generous rates: the 10,000 WebSocket handshakes each take one request from their key's bucket
        service = ServiceProcess.start("abuse-it", topics, ServiceProcess.BUNDLED_MODEL, KEYS,
                "-Dternstream.gateway.model-name=" + MODEL,
                "-Dternstream.gateway.replica-id=abuse",
                "-Dternstream.gateway.owners-topic=" + OWNERS,
                "-Dternstream.gateway.limits.max-message-bytes=" + MAX_MESSAGE_BYTES,
                "-Dternstream.limits.max-tokens=" + MAX_TOKENS,
                "-Dternstream.gateway.limits.requests-per-second=100000",
                "-Dternstream.gateway.limits.burst=100000");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    // ---- 1. one key floods ------------------------------------------------------------------------

    /**
     * Key A floods a gateway-only replica with low limits (HTTP requests and WebSocket handshakes from
     * nine clients at once for three seconds): beyond its burst it gets 429 with Retry-After, while key B's
     * chats through the same replica are served at once. A WebSocket that floods messages gets
     * gateway_error 429 frames and stays open.
     */
    @Test
    void floodingOneKeyGets429WhileAnotherKeyIsServed() throws Exception {
        try (ServiceProcess gateway = ServiceProcess.start("abuse-it-flood", topics, ServiceProcess.BUNDLED_MODEL,
                "-Dternstream.role=gateway", KEYS,
                "-Dternstream.gateway.model-name=" + MODEL,
                "-Dternstream.gateway.replica-id=abuse-flood",
                "-Dternstream.gateway.owners-topic=" + OWNERS,
                "-Dternstream.gateway.limits.requests-per-second=" + FLOOD_RATE,
                "-Dternstream.gateway.limits.burst=" + FLOOD_BURST)) {
            assertChatServed(gateway, KEY_B); // warms the replica up: the first chat is not a baseline
            double quietMillis = assertChatServed(gateway, KEY_B);

            Queue<HttpResponse<String>> flood = new ConcurrentLinkedQueue<>();
            Queue<Integer> handshakes = new ConcurrentLinkedQueue<>();
            List<Double> duringMillis = new ArrayList<>();
            long floodStart = System.nanoTime();
            long floodEnd = floodStart + Duration.ofSeconds(3).toNanos();
            try (var flooders = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 8; i++) {
                    flooders.submit(() -> {
                        while (System.nanoTime() < floodEnd) {
                            flood.add(post(gateway, "/v1/chat/completions", KEY_A, bytes(chatRequest(2))));
                        }
                    });
                }
                flooders.submit(() -> {
                    for (int n = 0; System.nanoTime() < floodEnd; n++) {
                        handshakes.add(handshake(gateway, "flood-a-" + RUN + "-" + n, KEY_A));
                    }
                });
                // key B keeps to its own rate: four chats 700 ms apart
                await("key B's chats").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(700))
                        .until(() -> duringMillis.add(assertChatServed(gateway, KEY_B)) && duringMillis.size() == 4);
            }
            double floodSeconds = (System.nanoTime() - floodStart) / 1e9;

            long accepted = flood.stream().filter(r -> r.statusCode() == 200).count();
            List<HttpResponse<String>> refused = flood.stream().filter(r -> r.statusCode() == 429).toList();
            assertEquals(flood.size(), accepted + refused.size(), "a flood gets 200 or 429, nothing else: "
                    + flood.stream().filter(r -> r.statusCode() != 200 && r.statusCode() != 429).findFirst()
                    .map(r -> r.statusCode() + " " + r.body()).orElse(""));
            long handshakesAccepted = handshakes.stream().filter(s -> s == 101).count();
            long allowed = FLOOD_BURST + (long) Math.ceil(FLOOD_RATE * floodSeconds) + 1;
            assertTrue(accepted + handshakesAccepted <= allowed, accepted + " requests and " + handshakesAccepted
                    + " handshakes of key A passed in " + floodSeconds + " s; its bucket allows " + allowed);
            assertFalse(refused.isEmpty(), "the flood was never refused");
            for (HttpResponse<String> r : refused) {
                assertOpenAiError(r, 429, "requests", "rate_limit_exceeded", null);
                int retryAfter = Integer.parseInt(r.headers().firstValue("Retry-After").orElseThrow());
                assertTrue(retryAfter >= 1, "Retry-After " + retryAfter);
            }
            assertTrue(handshakes.stream().allMatch(s -> s == 101 || s == 429), "handshakes: " + handshakes);
            assertTrue(handshakes.contains(429), "no WebSocket handshake of the flooding key was refused");

            double worstDuring = duringMillis.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            // a 2-core machine shared with the flood: a bound far below the request timeout, the figures in the report
            assertTrue(worstDuring < 10_000, "key B waited " + worstDuring + " ms during the flood");
            report("flood (gateway-only replica, %d requests/s, burst %d): key A sent %d chat requests and %d "
                            + "WebSocket handshakes in %.1f s; %d requests and %d handshakes passed, %d requests got 429 "
                            + "with Retry-After; key B: %d chats served during the flood, worst %.0f ms, median %.0f ms "
                            + "(%.0f ms before the flood)",
                    FLOOD_RATE, FLOOD_BURST, flood.size(), handshakes.size(), floodSeconds, accepted, handshakesAccepted,
                    refused.size(), duringMillis.size(), worstDuring, median(duringMillis), quietMillis);

            floodOneWebSocket(gateway);

            assertEquals(200, gateway.get("/q/health/ready"));
            // key A is served again once its bucket refills (a refused request takes nothing from it)
            await("key A served again").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(700))
                    .until(() -> post(gateway, "/v1/chat/completions", KEY_A, bytes(chatRequest(2))).statusCode() == 200);
        }
        assertStillServes();
    }

    /** Key C opens one stream (one request from its bucket) and sends 20 commands at once. */
    private static void floodOneWebSocket(ServiceProcess gateway) throws IOException {
        String session = "flood-c-" + RUN;
        WsRecorder ws = WsRecorder.open(http, gateway.baseUrl(), session, KEY_C, true);
        int sent = 20;
        for (int i = 0; i < sent; i++) {
            ws.send(cancel(session, "c" + i));
        }
        // each command is answered: by the engine (its requestId) or by the gateway's refusal (which names none)
        await("an answer to each command").atMost(Duration.ofSeconds(30))
                .until(() -> ws.messages.stream().filter(m -> m.path("requestId").asText().matches("c\\d+")).count()
                        + count(ws, "gateway_error") == sent);
        long refused = count(ws, "gateway_error");
        assertTrue(refused >= sent - FLOOD_BURST - FLOOD_RATE * 2, refused + " of " + sent + " refused");
        ws.messages.stream().filter(m -> m.path("type").asText().equals("gateway_error")).forEach(m -> {
            assertEquals(429, m.path("status").asInt(), m.toString());
            assertEquals("rate_limited", m.path("code").asText(), m.toString());
        });
        // the connection stays: once the bucket refills, a command goes through again
        AtomicInteger attempt = new AtomicInteger();
        await("a command accepted after the flood").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(700))
                .until(() -> {
                    ws.send(cancel(session, "after-" + attempt.incrementAndGet()));
                    return ws.find(m -> m.path("requestId").asText().startsWith("after-")).isPresent();
                });
        assertTrue(ws.open(), "the flooding WebSocket was closed");
        report("flood over one WebSocket: %d commands at once, %d answered with gateway_error 429 rate_limited, the "
                + "connection stayed open", sent, refused);
        ws.close();
    }

    /** The handshake's HTTP status: 101 (then closed at once) or the refusal's. */
    private static int handshake(ServiceProcess gateway, String sessionId, String key) {
        try {
            WsRecorder ws = WsRecorder.open(http, gateway.baseUrl(), sessionId, key, true);
            ws.close();
            return 101;
        } catch (CompletionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                return refused.getResponse().statusCode();
            }
            throw e;
        }
    }

    // ---- 2. ten thousand idle WebSockets --------------------------------------------------------------

    /**
     * Opens -Dternstream.abuse.websockets (10,000) WebSockets in parallel batches and leaves them idle:
     * every handshake is accepted, the resident memory per 1,000 connections is reported, a normal chat
     * still works, and every connection closes with 1000 and gives its file descriptor back.
     */
    @Test
    void tenThousandIdleWebSocketsAreHeldAndCloseCleanly() throws Exception {
        int count = Integer.getInteger("ternstream.abuse.websockets", 10_000);
        int batch = 500;
        long needed = count + 1024L;
        long ownLimit = openFileLimit(ProcessHandle.current().pid());
        long serviceLimit = openFileLimit(service.pid());
        assertTrue(ownLimit >= needed, "the test JVM may open " + ownLimit + " files; " + count + " WebSockets need "
                + needed + ": raise ulimit -n or lower -Dternstream.abuse.websockets");
        assertTrue(serviceLimit >= needed, "the service may open " + serviceLimit + " files; " + count
                + " WebSockets need " + needed + ": raise ulimit -n or lower -Dternstream.abuse.websockets");

        HttpClient client = HttpClient.newHttpClient(); // its own selector thread for these connections
        IdleListener idle = new IdleListener();
        int fdsBefore = openFiles(service.pid());
        double rssBefore = service.residentMib();
        long start = System.nanoTime();
        List<WebSocket> sockets = new ArrayList<>(count);
        List<String> failures = new ArrayList<>();
        for (int from = 0; from < count; from += batch) {
            List<CompletableFuture<WebSocket>> opening = new ArrayList<>();
            for (int i = from; i < Math.min(count, from + batch); i++) {
                opening.add(client.newWebSocketBuilder().header("Authorization", "Bearer " + KEY_A)
                        .connectTimeout(Duration.ofSeconds(30))
                        .buildAsync(WsRecorder.streamUri(service.baseUrl(), "idle-" + RUN + "-" + i), idle));
            }
            for (CompletableFuture<WebSocket> f : opening) {
                try {
                    sockets.add(f.join());
                } catch (CompletionException e) {
                    failures.add(String.valueOf(e.getCause()));
                }
            }
        }
        double openSeconds = (System.nanoTime() - start) / 1e9;
        assertEquals(List.of(), failures.stream().distinct().limit(5).toList(), failures.size() + " handshakes failed");
        assertEquals(count, sockets.size());
        // a margin: HTTP connections of earlier requests may close meanwhile
        await("the service holds every connection").atMost(Duration.ofSeconds(30))
                .until(() -> openFiles(service.pid()) >= fdsBefore + count - 64);
        double rssOpen = service.residentMib();
        int fdsOpen = openFiles(service.pid());

        // with all of them open, a chat and a WebSocket turn are served as usual
        assertChatServed(service, KEY_B);
        String session = "beside-idle-" + RUN;
        WsRecorder extra = WsRecorder.open(http, service.baseUrl(), session, KEY_B, true);
        extra.send(prompt(session, "r1", "In the beginning", params(8)));
        assertEquals("complete", extra.terminal("r1", Duration.ofSeconds(60)).path("type").asText());
        extra.close();

        long closing = System.nanoTime();
        sockets.forEach(ws -> ws.sendClose(WebSocket.NORMAL_CLOSURE, "done"));
        await("every close answered").atMost(Duration.ofSeconds(60)).until(() -> idle.closes() == count);
        assertEquals(Map.of(WebSocket.NORMAL_CLOSURE, count), idle.closeCodes(), "close codes and their counts");
        assertEquals(0, idle.errors.get(), "connections failed instead of closing");
        await("the service released every connection").atMost(Duration.ofSeconds(60))
                .until(() -> openFiles(service.pid()) <= fdsBefore + 64);
        double closeSeconds = (System.nanoTime() - closing) / 1e9;
        double rssClosed = service.residentMib();

        report("idle WebSockets: %d opened in %.1f s (batches of %d), all 101; service file descriptors %d -> %d; "
                        + "service RSS %.0f MiB before, %.0f MiB with all open (%.1f MiB per 1,000 connections), %.0f MiB "
                        + "after all closed (%.1f s to close, all with 1000); ulimit -n: test JVM %d, service %d; "
                        + "service JVM %s",
                count, openSeconds, batch, fdsBefore, fdsOpen, rssBefore, rssOpen, (rssOpen - rssBefore) * 1000 / count,
                rssClosed, closeSeconds, ownLimit, serviceLimit, String.join(" ", ServiceProcess.TEST_JVM));
        assertStillServes();
    }

    /** One listener for all the idle connections: they receive nothing; it counts how they close. */
    private static final class IdleListener implements WebSocket.Listener {
        private final Map<Integer, AtomicInteger> codes = new ConcurrentHashMap<>();
        private final AtomicInteger errors = new AtomicInteger();

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            codes.computeIfAbsent(statusCode, c -> new AtomicInteger()).incrementAndGet();
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            errors.incrementAndGet();
        }

        int closes() {
            return codes.values().stream().mapToInt(AtomicInteger::get).sum() + errors.get();
        }

        Map<Integer, Integer> closeCodes() {
            Map<Integer, Integer> result = new java.util.TreeMap<>();
            codes.forEach((code, n) -> result.put(code, n.get()));
            return result;
        }
    }

    // ---- 3. a reader that never reads ---------------------------------------------------------------

    /**
     * A client queues long turns on its session and never reads its stream; meanwhile short turns of
     * another session complete as fast as when the same long turns are read at once (measured just
     * before), the gateway stays ready, and once the slow reader reads it gets every event.
     */
    @Test
    void aReaderThatNeverReadsDoesNotStallOtherSessions() throws Exception {
        probeTurns("warm-up"); // the first turns of a fresh JVM are no baseline
        double unloadedMedian = median(probeTurns("unloaded"));
        Phase read = loadedPhase("read", true);
        Phase unread = loadedPhase("unread", false);
        assertEquals(200, service.get("/q/health/ready"));

        // the slow reader catches up and loses nothing
        double rssWithBacklog = service.residentMib();
        SocketQueues queues = SocketQueues.of(URI.create(service.baseUrl()).getPort());
        unread.heavy().startReading();
        long bytes = 0;
        int events = 0;
        for (String requestId : unread.requestIds()) {
            assertEquals("complete", unread.heavy().terminal(requestId, Duration.ofSeconds(120)).path("type").asText());
            List<JsonNode> turn = unread.heavy().messages.stream()
                    .filter(m -> m.path("requestId").asText().equals(requestId)).toList();
            for (int seq = 0; seq < turn.size(); seq++) {
                assertEquals(seq, turn.get(seq).path("seq").asInt(), "events of " + requestId + " in order, once each");
            }
            events += turn.size();
            bytes += turn.stream().mapToLong(m -> frameBytes(m.toString().getBytes(StandardCharsets.UTF_8).length)).sum();
        }
        double rssAfter = service.residentMib();
        unread.heavy().close();
        read.heavy().close();

        double readMedian = median(read.probeMillis());
        double unreadMedian = median(unread.probeMillis());
        report("slow reader: %d long turns (max_tokens %d) queued on one session; another session's 8-token turns "
                        + "took (median) %.0f ms without them, %.0f ms while they were read at once, %.0f ms while they "
                        + "were never read; the unread backlog was %d events "
                        + "(%.0f KiB of frames), all delivered in order once the client read; of it %.0f KiB waited in the "
                        + "service's socket send buffer, %.0f KiB in the client's receive buffer, %.0f KiB in the service "
                        + "process; service RSS %.0f MiB before, %.0f MiB with the backlog, %.0f MiB after it was read",
                unread.requestIds().size(), MAX_TOKENS, unloadedMedian, readMedian, unreadMedian, events, bytes / 1024.0,
                queues.serverSend() / 1024.0, queues.clientReceive() / 1024.0,
                Math.max(0, bytes - queues.serverSend() - queues.clientReceive()) / 1024.0,
                unread.rssBefore(), rssWithBacklog, rssAfter);
        // a stall would hold the probes for the long turns' whole duration (seconds); the margin absorbs a shared machine
        assertTrue(unreadMedian <= 3 * readMedian + 1000, "other sessions slowed down while a client did not read: "
                + unread.probeMillis() + " against " + read.probeMillis());
        assertStillServes();
    }

    /** Long turns on one session (read at once or never), and short probe turns of another meanwhile. */
    private record Phase(WsRecorder heavy, List<String> requestIds, List<Double> probeMillis, double rssBefore) {}

    private static Phase loadedPhase(String name, boolean reading) throws IOException {
        double rssBefore = service.residentMib();
        String heavySession = "heavy-" + name + "-" + RUN;
        WsRecorder heavy = WsRecorder.open(http, service.baseUrl(), heavySession, KEY_A, reading);
        List<String> requestIds = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String id = "long-" + i;
            requestIds.add(id);
            ObjectNode params = params(MAX_TOKENS).put("temperature", 1.0).put("seed", i);
            heavy.send(prompt(heavySession, id, "And it came to pass in those days", params));
        }
        await("the long turns started").atMost(Duration.ofSeconds(30))
                .until(() -> service.metric("ternstream_sessions_active") >= 1);
        List<Double> millis = probeTurns(name);
        assertTrue(service.metric("ternstream_sessions_active") >= 1,
                "the long turns ended before the probes did: they measured nothing under load");
        // both phases end with the long turns done, so the next starts from the same engine
        await("the long turns finished").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200))
                .until(() -> service.metric("ternstream_sessions_active") == 0);
        return new Phase(heavy, requestIds, millis, rssBefore);
    }

    /** Six 8-token turns of a fresh session, one after the other: how long each took, in milliseconds. */
    private static List<Double> probeTurns(String name) {
        String session = "probe-" + name + "-" + RUN;
        WsRecorder probe = WsRecorder.open(http, service.baseUrl(), session, KEY_B, true);
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String id = "p" + i;
            long start = System.nanoTime();
            probe.send(prompt(session, id, "Four score and seven years ago", params(8).put("temperature", 0.0)));
            assertEquals("complete", probe.terminal(id, Duration.ofSeconds(60)).path("type").asText());
            millis.add((System.nanoTime() - start) / 1e6);
        }
        probe.close();
        return millis;
    }

    /** A server frame's size on the wire: the payload and its unmasked header. */
    private static long frameBytes(int payload) {
        return payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);
    }

    /** Bytes the kernel holds for loopback connections to a port, on both ends (Linux /proc/net/tcp). */
    private record SocketQueues(long serverSend, long clientReceive) {
        static SocketQueues of(int port) throws IOException {
            long send = 0;
            long receive = 0;
            for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
                List<String> lines = Files.readAllLines(Path.of(table));
                for (String line : lines.subList(1, lines.size())) {
                    // sl local_address rem_address st tx_queue:rx_queue ...; addresses and queues in hex
                    String[] fields = line.trim().split("\\s+");
                    int local = Integer.parseInt(fields[1].substring(fields[1].indexOf(':') + 1), 16);
                    int remote = Integer.parseInt(fields[2].substring(fields[2].indexOf(':') + 1), 16);
                    String[] queues = fields[4].split(":");
                    if (local == port) {
                        send += Long.parseLong(queues[0], 16);
                    }
                    if (remote == port) {
                        receive += Long.parseLong(queues[1], 16);
                    }
                }
            }
            return new SocketQueues(send, receive);
        }
    }

    // ---- 4. messages no client should send ----------------------------------------------------------------

    @Test
    void oversizedMessagesAreRefusedWith413() throws Exception {
        String session = "big-" + RUN;
        WsRecorder ws = WsRecorder.open(http, service.baseUrl(), session, KEY_A, true);
        ws.send(prompt(session, "big-1", "x".repeat(MAX_MESSAGE_BYTES), params(4)));
        JsonNode tooLarge = ws.gatewayError(null);
        assertEquals(413, tooLarge.path("status").asInt(), tooLarge.toString());
        assertEquals("message_too_large", tooLarge.path("code").asText());
        assertTurnServed(ws, session, "after-big");

        // over the WebSocket layer's hard cap the frame is not read at all: close 1009 (message too big)
        ws.sendWithoutWaiting("x".repeat(HARD_CAP_BYTES + 1));
        assertEquals(1009, ws.closed.get(20, TimeUnit.SECONDS));

        byte[] justOver = chatRequest(4).put("padding", "x".repeat(MAX_MESSAGE_BYTES)).toString()
                .getBytes(StandardCharsets.UTF_8);
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, justOver), 413, "invalid_request_error",
                "message_too_large", null);
        byte[] megabytes = chatRequest(4).put("padding", "x".repeat(5 * 1024 * 1024)).toString()
                .getBytes(StandardCharsets.UTF_8);
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, megabytes), 413, "invalid_request_error",
                "message_too_large", null);
        assertStillServes();
    }

    @Test
    void deeplyNestedJsonIsRefusedWith400() throws Exception {
        // 100,000 '[' are over the size limit before they are parsed
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, "[".repeat(100_000).getBytes(StandardCharsets.UTF_8)),
                413, "invalid_request_error", "message_too_large", null);
        // 30,000 levels inside the limit: the parser's depth limit refuses them
        String deep = "[".repeat(30_000) + "]".repeat(30_000);
        ObjectNode chat = chatRequest(4);
        String nested = chat.toString().replaceFirst("}$", ",\"metadata\":" + deep + "}");
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, nested.getBytes(StandardCharsets.UTF_8)),
                400, "invalid_request_error", "invalid_json", null);
        // 500 levels in a field the gateway ignores: legal JSON, served
        String legal = chat.toString().replaceFirst("}$", ",\"metadata\":" + "[".repeat(500) + "]".repeat(500) + "}");
        assertEquals(200, post(service, "/v1/chat/completions", KEY_A, legal.getBytes(StandardCharsets.UTF_8))
                .statusCode());

        String session = "nested-" + RUN;
        WsRecorder ws = WsRecorder.open(http, service.baseUrl(), session, KEY_A, true);
        ws.send(prompt(session, "deep-1", "hi", params(4)).replaceFirst("}$", ",\"extra\":" + deep + "}"));
        assertGatewayError(ws.gatewayError(null), 400, "malformed_json");
        // beyond the message codec's nesting limit (32 levels): refused unread, so without a requestId
        ws.send(prompt(session, "deep-2", "hi", params(4)).replaceFirst("}$",
                ",\"extra\":" + "[".repeat(400) + "]".repeat(400) + "}"));
        assertGatewayError(ws.gatewayError(null), 400, "malformed_json");
        assertTurnServed(ws, session, "after-deep");
        ws.close();
        assertStillServes();
    }

    @Test
    void invalidUtf8() throws Exception {
        ObjectNode chat = chatRequest(4);
        ((ObjectNode) chat.get("messages").get(0)).put("content", "In the " + MARK + " beginning");
        for (byte[] broken : List.of(new byte[] {(byte) 0xff, (byte) 0xfe}, // never in UTF-8
                new byte[] {(byte) 0xc0, (byte) 0xaf},                     // overlong '/'
                new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80})) {     // an encoded surrogate
            assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, spliced(chat.toString(), broken)), 400,
                    "invalid_request_error", "invalid_json", null);
        }
        // a lone surrogate written as a JSON escape is valid JSON (RFC 8259 allows it): served like any text
        byte[] escaped = spliced(chat.toString(), "\\ud800".getBytes(StandardCharsets.US_ASCII));
        HttpResponse<String> surrogate = post(service, "/v1/chat/completions", KEY_A, escaped);
        assertEquals(200, surrogate.statusCode(), surrogate.body());

        // a text frame whose payload is not UTF-8: the WebSocket layer (Vert.x) decodes it with U+FFFD in place of
        // the broken bytes before the gateway sees it (RFC 6455 would close with 1007), so the prompt is served
        // with replacement characters and the connection stays
        String session = "utf8-" + RUN;
        String message = prompt(session, "bad-utf8", "In the " + MARK + " beginning", params(4));
        int port = URI.create(service.baseUrl()).getPort();
        try (RawWebSocket raw = RawWebSocket.open(port, "/v1/sessions/" + session + "/stream", KEY_A)) {
            raw.sendText(spliced(message, new byte[] {(byte) 0xff, (byte) 0xfe}));
            assertEquals("complete", rawTerminal(raw, "bad-utf8").path("type").asText());
        }
        WsRecorder ws = WsRecorder.open(http, service.baseUrl(), session, KEY_A, true);
        ws.send(new String(spliced(prompt(session, "surrogate", "In the " + MARK + " beginning", params(4)),
                "\\ud800".getBytes(StandardCharsets.US_ASCII)), StandardCharsets.UTF_8));
        assertEquals("complete", ws.terminal("surrogate", Duration.ofSeconds(60)).path("type").asText());
        assertTurnServed(ws, session, "after-utf8");
        ws.close();
        assertStillServes();
    }

    /** Reads a raw connection's frames up to the terminal event of a request; fails on a close or a drop. */
    private static JsonNode rawTerminal(RawWebSocket raw, String requestId) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            RawWebSocket.Frame frame = raw.read(Duration.ofSeconds(60));
            assertNotNull(frame, "the connection was dropped or went silent");
            assertEquals(RawWebSocket.TEXT, frame.opcode(), "frame " + frame.opcode() + ": " + frame.text());
            JsonNode event = json(frame.text());
            if (event.path("requestId").asText().equals(requestId)
                    && List.of("complete", "error", "gateway_error").contains(event.path("type").asText())) {
                return event;
            }
        }
        throw new AssertionError("no terminal event for " + requestId);
    }

    /** The JSON text with its marker replaced by raw bytes. */
    private static byte[] spliced(String json, byte[] bytes) {
        int at = json.indexOf(MARK);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(json.substring(0, at).getBytes(StandardCharsets.UTF_8));
        out.writeBytes(bytes);
        out.writeBytes(json.substring(at + MARK.length()).getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    @Test
    void unknownFieldsAndTypes() throws Exception {
        // HTTP: fields the gateway does not know are ignored, as documented (clients send many)
        ObjectNode extra = chatRequest(4);
        extra.put("frobnicate", true).putObject("logit_bias").put("50256", -100);
        extra.putArray("tools").addObject().put("type", "function");
        assertEquals(200, post(service, "/v1/chat/completions", KEY_A, bytes(extra)).statusCode());
        ObjectNode toolRole = chatRequest(4);
        ((ObjectNode) toolRole.get("messages").get(0)).put("role", "tool");
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(toolRole)), 400, "invalid_request_error",
                "invalid_value", "messages[0].role");
        ObjectNode image = chatRequest(4);
        ((ObjectNode) image.get("messages").get(0)).putArray("content").addObject().put("type", "image_url");
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(image)), 400, "invalid_request_error",
                "invalid_value", "messages[0].content");
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, "[1,2,3]".getBytes(StandardCharsets.UTF_8)), 400,
                "invalid_request_error", "invalid_json", null);

        // WebSocket: the prompts topic's schema admits no unknown field and no unknown type
        String session = "unknown-" + RUN;
        WsRecorder ws = WsRecorder.open(http, service.baseUrl(), session, KEY_A, true);
        ws.send(prompt(session, "u1", "hi", params(4)).replaceFirst("}$", ",\"priority\":\"high\"}"));
        assertGatewayError(ws.gatewayError("u1"), 400, "schema_violation");
        ws.send(prompt(session, "u2", "hi", params(4).put("n", 2)));
        assertGatewayError(ws.gatewayError("u2"), 400, "schema_violation");
        ws.send("{\"type\":\"launch\",\"sessionId\":\"" + session + "\",\"requestId\":\"u3\"}");
        assertGatewayError(ws.gatewayError("u3"), 400, "schema_violation");
        ws.send("{\"sessionId\":\"" + session + "\",\"requestId\":\"u4\",\"text\":\"hi\"}");
        assertGatewayError(ws.gatewayError("u4"), 400, "schema_violation");
        // a reply event or the gateway's own error frame is not something a client sends
        ws.send("{\"type\":\"token\",\"sessionId\":\"" + session + "\",\"requestId\":\"u5\",\"seq\":0,\"text\":\"x\","
                + "\"tokenIds\":[5]}");
        assertGatewayError(ws.gatewayError("u5"), 400, "schema_violation");
        ws.send("{\"type\":\"gateway_error\",\"sessionId\":\"" + session + "\",\"requestId\":\"u6\",\"status\":500}");
        assertGatewayError(ws.gatewayError("u6"), 400, "schema_violation");
        ws.send("[1,2,3]");
        assertGatewayError(ws.gatewayError(null), 400, "malformed_json");
        assertTurnServed(ws, session, "after-unknown");
        ws.close();
        assertStillServes();
    }

    /**
     * import is the engines' second half of a fork, with raw session state; a client that sends one
     * is refused and nothing reaches Kafka. Its acknowledgement would otherwise go to the stream of the
     * source session it names, which may be anyone's.
     */
    @Test
    void internalMessageTypesAreRefused() throws Exception {
        String victim = "victim-" + RUN;
        WsRecorder alice = WsRecorder.open(http, service.baseUrl(), victim, KEY_B, true);
        String session = "mallory-" + RUN;
        WsRecorder mallory = WsRecorder.open(http, service.baseUrl(), session, KEY_A, true);
        mallory.send("{\"type\":\"import\",\"sessionId\":\"" + session + "\",\"requestId\":\"i1\",\"sourceSessionId\":\""
                + victim + "\",\"fingerprint\":\"0000\",\"state\":\"AAECAwQ=\",\"turnCount\":1}");
        assertGatewayError(mallory.gatewayError("i1"), 400, "internal_type");

        // a command after it, on the same key and so the same partition: the prompts topic up to it holds no import
        mallory.send(cancel(session, "fence"));
        mallory.awaitMessage("the engine's answer to the fence", Duration.ofSeconds(30),
                m -> m.path("requestId").asText().equals("fence"));
        List<String> types = promptTopicTypes(session, "fence");
        assertEquals(List.of("cancel"), types, "what reached the prompts topic for " + session);
        assertTrue(alice.find(m -> m.path("requestId").asText().equals("i1")).isEmpty(), "the victim's stream got "
                + alice.messages);
        assertTurnServed(mallory, session, "after-import");
        alice.close();
        mallory.close();
        assertStillServes();
    }

    @Test
    void maxTokensAboveTheLimitIsRefusedWith400() throws Exception {
        for (long maxTokens : List.of(MAX_TOKENS + 1L, (long) Integer.MAX_VALUE)) {
            ObjectNode request = chatRequest(4).put("max_tokens", maxTokens);
            assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(request)), 400,
                    "invalid_request_error", "max_tokens_too_large", "max_tokens");
        }
        for (String field : List.of("max_tokens", "max_completion_tokens")) {
            ObjectNode request = chatRequest(4);
            request.remove("max_tokens");
            request.put(field, 1L << 31);
            assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(request)), 400,
                    "invalid_request_error", "invalid_value", field);
        }
        ObjectNode huge = chatRequest(4);
        huge.set("max_tokens", JSON.readTree("1" + "0".repeat(400)));
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(huge)), 400, "invalid_request_error",
                "invalid_value", "max_tokens");
        ObjectNode completion = JSON.createObjectNode().put("model", MODEL).put("prompt", "In the beginning")
                .put("max_tokens", MAX_TOKENS + 1);
        assertOpenAiError(post(service, "/v1/completions", KEY_A, bytes(completion)), 400, "invalid_request_error",
                "max_tokens_too_large", "max_tokens");

        String session = "maxtokens-" + RUN;
        WsRecorder ws = WsRecorder.open(http, service.baseUrl(), session, KEY_A, true);
        ws.send(prompt(session, "m1", "hi", params(MAX_TOKENS + 1)));
        assertGatewayError(ws.gatewayError("m1"), 400, "max_tokens_too_large");
        ws.send(prompt(session, "m2", "hi", params(4).put("maxTokens", 1L << 31)));
        assertGatewayError(ws.gatewayError("m2"), 400, "schema_violation");
        // at the limit a turn is accepted (and cancelled: it is the limit that is tested, not the model)
        ws.send(prompt(session, "m3", "hi", params(MAX_TOKENS)));
        ws.awaitMessage("first token of m3", Duration.ofSeconds(60), m -> m.path("requestId").asText().equals("m3"));
        ws.send("{\"type\":\"cancel\",\"sessionId\":\"" + session + "\",\"requestId\":\"c3\",\"targetRequestId\":\"m3\"}");
        assertEquals("complete", ws.terminal("m3", Duration.ofSeconds(60)).path("type").asText());
        assertTurnServed(ws, session, "after-max-tokens");
        ws.close();
        assertStillServes();
    }

    @Test
    void moreThanOneChoiceIsRefusedWith400() throws IOException {
        for (String n : List.of("2", "0", "\"2\"", "1.5")) {
            ObjectNode request = chatRequest(4);
            request.set("n", json(n));
            assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(request)), 400,
                    "invalid_request_error", "invalid_value", "n");
        }
        ObjectNode completion = JSON.createObjectNode().put("model", MODEL).put("prompt", "In the beginning")
                .put("max_tokens", 4).put("n", 2);
        assertOpenAiError(post(service, "/v1/completions", KEY_A, bytes(completion)), 400, "invalid_request_error",
                "invalid_value", "n");
        // several prompts in one completions request would be several choices too
        ObjectNode prompts = JSON.createObjectNode().put("model", MODEL).put("max_tokens", 4);
        prompts.putArray("prompt").add("one").add("two");
        assertOpenAiError(post(service, "/v1/completions", KEY_A, bytes(prompts)), 400, "invalid_request_error",
                "invalid_value", "prompt");
        assertEquals(200, post(service, "/v1/chat/completions", KEY_A, bytes(chatRequest(4).put("n", 1))).statusCode());
        assertStillServes();
    }

    @Test
    void stopListsAtTheLimits() throws Exception {
        String longest = "s".repeat(64);
        assertEquals(200, post(service, "/v1/chat/completions", KEY_A, bytes(withStop(chatRequest(4),
                "\n", "User:", "Amen", longest))).statusCode(), "four stops of up to 64 characters are allowed");
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(withStop(chatRequest(4),
                "a", "b", "c", "d", "e"))), 400, "invalid_request_error", "invalid_value", "stop");
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(withStop(chatRequest(4),
                longest + "s"))), 400, "invalid_request_error", "invalid_value", "stop");
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(withStop(chatRequest(4), ""))), 400,
                "invalid_request_error", "invalid_value", "stop");
        ObjectNode number = chatRequest(4);
        number.putArray("stop").add(7);
        assertOpenAiError(post(service, "/v1/chat/completions", KEY_A, bytes(number)), 400, "invalid_request_error",
                "invalid_value", "stop");

        // the WebSocket speaks the prompts topic's schema: up to 8 stops of up to 64 characters
        String session = "stops-" + RUN;
        WsRecorder ws = WsRecorder.open(http, service.baseUrl(), session, KEY_A, true);
        ObjectNode eight = params(4);
        for (int i = 0; i < 7; i++) {
            eight.withArray("stop").add("stop-" + i);
        }
        eight.withArray("stop").add(longest);
        ws.send(prompt(session, "s8", "In the beginning", eight));
        assertEquals("complete", ws.terminal("s8", Duration.ofSeconds(60)).path("type").asText());
        ObjectNode nine = eight.deepCopy();
        nine.withArray("stop").add("one-too-many");
        ws.send(prompt(session, "s9", "In the beginning", nine));
        assertGatewayError(ws.gatewayError("s9"), 400, "schema_violation");
        ObjectNode tooLong = params(4);
        tooLong.putArray("stop").add(longest + "s");
        ws.send(prompt(session, "s-long", "In the beginning", tooLong));
        assertGatewayError(ws.gatewayError("s-long"), 400, "schema_violation");
        assertTurnServed(ws, session, "after-stops");
        ws.close();
        assertStillServes();
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static ObjectNode chatRequest(int maxTokens) {
        ObjectNode body = JSON.createObjectNode().put("model", MODEL).put("max_tokens", maxTokens);
        body.putArray("messages").addObject().put("role", "user").put("content", "In the beginning");
        return body;
    }

    private static ObjectNode withStop(ObjectNode request, String... stops) {
        var array = request.putArray("stop");
        for (String s : stops) {
            array.add(s);
        }
        return request;
    }

    private static ObjectNode params(int maxTokens) {
        return JSON.createObjectNode().put("maxTokens", maxTokens);
    }

    private static String prompt(String session, String requestId, String text, ObjectNode params) {
        ObjectNode message = JSON.createObjectNode().put("type", "prompt").put("sessionId", session)
                .put("requestId", requestId).put("text", text);
        message.set("params", params);
        return message.toString();
    }

    private static String cancel(String session, String requestId) {
        return JSON.createObjectNode().put("type", "cancel").put("sessionId", session).put("requestId", requestId)
                .toString();
    }

    private static byte[] bytes(JsonNode json) {
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpResponse<String> post(ServiceProcess target, String path, String key, byte[] body) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(target.baseUrl() + path)).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("POST " + path + " (" + body.length + " bytes) got no response", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A normal chat: 200 with an answer; returns how long it took in milliseconds. */
    private static double assertChatServed(ServiceProcess target, String key) {
        long start = System.nanoTime();
        HttpResponse<String> response = post(target, "/v1/chat/completions", key, bytes(chatRequest(4)));
        double millis = (System.nanoTime() - start) / 1e6;
        assertEquals(200, response.statusCode(), response.body());
        JsonNode body = json(response.body());
        assertEquals("assistant", body.path("choices").path(0).path("message").path("role").asText(), response.body());
        assertTrue(body.path("usage").path("completion_tokens").asInt() >= 1, response.body());
        return millis;
    }

    /** The service is ready, serves a normal chat, and has logged no error: nothing a client sent was a server error. */
    private static void assertStillServes() throws IOException {
        assertTrue(service.alive(), "the service process died");
        assertEquals(200, service.get("/q/health/ready"));
        assertChatServed(service, KEY_B);
        assertEquals(List.of(), service.logText().lines().filter(l -> l.contains(" ERROR ")).limit(3).toList());
    }

    /** A normal turn on the same connection after a refusal: the connection is still usable. */
    private static void assertTurnServed(WsRecorder ws, String session, String requestId) {
        ws.send(prompt(session, requestId, "In the beginning", params(4)));
        assertEquals("complete", ws.terminal(requestId, Duration.ofSeconds(60)).path("type").asText());
    }

    private static void assertOpenAiError(HttpResponse<String> response, int status, String type, String code,
                                          String param) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
        JsonNode error = json(response.body()).path("error");
        assertEquals(type, error.path("type").asText(), response.body());
        assertEquals(code, error.path("code").asText(), response.body());
        if (param != null) {
            assertEquals(param, error.path("param").asText(), response.body());
        }
        assertFalse(error.path("message").asText().isBlank(), response.body());
    }

    private static void assertGatewayError(JsonNode frame, int status, String code) {
        assertEquals("gateway_error", frame.path("type").asText(), frame.toString());
        assertEquals(status, frame.path("status").asInt(), frame.toString());
        assertEquals(code, frame.path("code").asText(), frame.toString());
        assertFalse(frame.path("message").asText().isBlank(), frame.toString());
    }

    private static long count(WsRecorder ws, String type) {
        return ws.messages.stream().filter(m -> m.path("type").asText().equals(type)).count();
    }

    /** The types of the session's records on the prompts topic, up to the one with the given requestId. */
    private static List<String> promptTopicTypes(String session, String untilRequestId) {
        List<String> types = new ArrayList<>();
        try (var consumer = new KafkaConsumer<String, byte[]>(Map.of(
                "bootstrap.servers", Broker.bootstrapServers(),
                "key.deserializer", StringDeserializer.class.getName(),
                "value.deserializer", ByteArrayDeserializer.class.getName()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topics.prompts()).stream()
                    .map(p -> new TopicPartition(topics.prompts(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            boolean[] seen = {false};
            await("the prompts topic up to " + untilRequestId).atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (session.equals(r.key()) && !seen[0]) {
                        JsonNode value = json(new String(r.value(), StandardCharsets.UTF_8));
                        types.add(value.path("type").asText());
                        seen[0] = value.path("requestId").asText().equals(untilRequestId);
                    }
                }
                return seen[0];
            });
        }
        return types;
    }

    private static long openFileLimit(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
            }
        }
        throw new IOException("no open file limit for " + pid);
    }

    private static int openFiles(long pid) throws IOException {
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) fds.count();
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static void report(String format, Object... args) throws IOException {
        String line = String.format(Locale.ROOT, format, args);
        System.out.println("abuse: " + line);
        Files.writeString(REPORT, line + System.lineSeparator(), StandardOpenOption.APPEND);
    }
}
