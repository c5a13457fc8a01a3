package io.ternstream.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml: a KRaft broker of the project's Kafka version, the service's topics and the
 * engine's store changelogs with the partition counts and settings the service and Kafka Streams expect,
 * engine and gateway from the image the Dockerfile builds, environment names the service reads, a
 * volume per engine for its stores, and Prometheus scraping Quarkus' /q/metrics.
 */
class ComposeTest {

    private static final ServiceSettings CONFIG = ServiceSettings.load();
    private final Compose compose = Compose.load();

    @Test
    void hasTheBrokerTopicsServiceRolesAndPrometheus() {
        assertEquals(Set.of("kafka", "kafka-init", "engine", "gateway", "prometheus"),
                Set.copyOf(iterable(compose.root().path("services").fieldNames())));
    }

    @Test
    void brokerIsTheOfficialKafkaImageInKRaftModeAtTheProjectsVersion() {
        JsonNode kafka = compose.service("kafka");
        assertEquals("apache/kafka:" + PomProperties.get("kafka.version"), kafka.path("image").asText(),
                "the broker version the tests run against (pom kafka.version)");
        Map<String, String> env = compose.environment("kafka");
        assertTrue(env.get("KAFKA_PROCESS_ROLES").contains("controller"), "KRaft: the broker is its own controller");
        assertEquals("false", env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE"), "topics only with explicit partition counts");
        assertEquals(compose.service("kafka-init").path("image").asText(), kafka.path("image").asText());
        assertEquals("service_healthy", compose.service("kafka-init").path("depends_on").path("kafka").path("condition").asText());
    }

    @Test
    void topicsAreTheServiceTopicsAndTheStoreChangelogsCompactedAndCoPartitioned() {
        Map<String, Compose.TopicSpec> topics = compose.topicsCreatedBy("kafka-init").stream()
                .collect(Collectors.toMap(Compose.TopicSpec::name, t -> t));
        Map<String, String> engineEnv = compose.environment("engine");
        Map<String, Compose.TopicSpec> byLogical = new HashMap<>();
        for (var t : ServiceSettings.TOPIC_PROPERTIES.entrySet()) {
            String name = engineEnv.getOrDefault(ServiceSettings.envName(t.getValue()), CONFIG.topic(t.getKey()));
            assertEquals(CONFIG.topic(t.getKey()), name, "compose renames topic " + t.getKey());
            assertNotNull(topics.get(name), "kafka-init does not create " + name);
            byLogical.put(t.getKey(), topics.get(name));
        }
        String applicationId = engineSetting(ServiceSettings.GROUP_ID);
        Map<String, Set<String>> stores = EngineStores.sourcesByStore(CONFIG);
        List<Compose.TopicSpec> wholeStates = new ArrayList<>(List.of(byLogical.get("prompts")));
        for (var store : stores.entrySet()) {
            String name = EngineStores.changelog(applicationId, store.getKey());
            Compose.TopicSpec changelog = topics.get(name);
            assertNotNull(changelog, "kafka-init does not create " + name + ", the changelog of store " + store.getKey()
                    + " (Kafka Streams would create it with the broker's default record size)");
            assertEquals("compact", changelog.config().get("cleanup.policy"), name);
            for (String source : store.getValue()) {
                assertEquals(topics.get(source).partitions(), changelog.partitions(),
                        name + " must have the partition count of " + source);
            }
            wholeStates.add(changelog);
        }
        assertEquals(ServiceSettings.TOPIC_PROPERTIES.size() + stores.size(), topics.size(),
                "kafka-init creates exactly the service's topics and the store changelogs");
        for (Compose.TopicSpec t : wholeStates) {
            assertTrue(Long.parseLong(t.config().getOrDefault("max.message.bytes", "1048588"))
                    >= KubernetesManifestsTest.SERVICE_MAX_RECORD_BYTES, t.name() + " must accept a whole session state");
        }
        for (Compose.TopicSpec t : topics.values()) {
            assertEquals(1, t.replicationFactor(), "one broker");
            for (String key : t.config().keySet()) {
                assertTrue(TopicConfigs.NAMES.contains(key), "not a Kafka topic config: " + key);
            }
        }
    }

    @Test
    void engineAndGatewayRunTheBuiltImageWithServiceSettings() {
        Map<String, String> kafkaEnv = compose.environment("kafka");
        String advertised = kafkaEnv.get("KAFKA_ADVERTISED_LISTENERS").replaceFirst("^PLAINTEXT://", "");
        for (String service : List.of("engine", "gateway")) {
            JsonNode s = compose.service(service);
            assertTrue(s.path("image").asText().startsWith("ternstream:"), service + " image");
            assertEquals(".", s.path("build").asText(), service + " is built from the Dockerfile here");
            assertEquals("build", s.path("pull_policy").asText(), service + ": never pull an image of that name");
            assertEquals("service_completed_successfully",
                    s.path("depends_on").path("kafka-init").path("condition").asText(), service + " starts after the topics exist");
            Map<String, String> env = compose.environment(service);
            assertEquals(service, env.get(ServiceSettings.envName(ServiceSettings.ROLE)), service + " role");
            assertEquals(advertised, env.get(ServiceSettings.envName(ServiceSettings.BOOTSTRAP_SERVERS)), service + " bootstrap");
            for (String name : env.keySet()) {
                assertTrue(KubernetesManifestsTest.isKnownEnv(name), service + ": " + name + " sets no property of the service");
            }
            assertEquals("false", env.get(ServiceSettings.envName(ServiceSettings.TOPICS_CREATE)),
                    service + ": kafka-init creates the topics; the service must not create them differently");
            String health = s.path("healthcheck").path("test").toString();
            assertTrue(health.contains(CONFIG.healthPath("ready")) && health.contains("/" + CONFIG.managementPort()),
                    service + " healthcheck asks the readiness endpoint: " + health);
            assertEquals(Boolean.TRUE, s.path("read_only").asBoolean(), service + " read-only root filesystem");
        }
        String published = compose.service("gateway").path("ports").path(0).asText();
        assertEquals("127.0.0.1:" + CONFIG.httpPort() + ":" + CONFIG.httpPort(), published,
                "the chat page is published on the gateway's HTTP port, on loopback only: compose runs without API keys");
        Map<String, String> gateway = compose.environment("gateway");
        assertEquals("false", gateway.get(ServiceSettings.envName(ServiceSettings.GATEWAY_REQUIRE_API_KEYS)),
                "the local chat page works without keys");
        assertEquals("gateway", gateway.get(ServiceSettings.envName(ServiceSettings.GATEWAY_REPLICA_ID)),
                "a fixed replica id: a re-created container reuses its reply topic");
        assertTrue(compose.service("engine").path("ports").isMissingNode(), "engines take no client traffic");
    }

    @Test
    void eachEngineKeepsItsStoresOnItsOwnVolumeWhichTheImageMakesWritable() {
        String stateDir = compose.environment("engine").get(ServiceSettings.envName(ServiceSettings.STATE_DIR));
        assertNotNull(stateDir, "the engine sets no " + ServiceSettings.envName(ServiceSettings.STATE_DIR)
                + ": its stores would be restored from the changelogs in full on every restart");
        List<String> volumes = compose.service("engine").path("volumes").valueStream().map(JsonNode::asText).toList();
        // an anonymous volume ("/path"): every replica of --scale gets its own, kept across restarts;
        // a named or bind-mounted one would be shared by the replicas, and two Streams instances must
        // never share a state folder
        assertTrue(volumes.contains(stateDir), "the engine's state dir " + stateDir
                + " must be an anonymous volume (one per replica), volumes: " + volumes);
        String run = DockerfileTest.load().runtime().all("RUN").stream().map(Dockerfile.Instruction::arguments)
                .reduce("", String::concat);
        Matcher chown = Pattern.compile("chown\\s+(\\d+):\\d+((?:\\s+/[^\\s&;\\\\]+)+)").matcher(run);
        boolean owned = false;
        while (chown.find()) {
            owned |= Integer.parseInt(chown.group(1)) == DockerfileTest.runtimeUid()
                    && List.of(chown.group(2).trim().split("\\s+")).contains(stateDir);
        }
        assertTrue(run.contains("mkdir -p") && run.contains(stateDir) && owned, "the image must create " + stateDir
                + " owned by its user, or a new volume there is root's and the engine cannot write its stores");
        assertTrue(CONFIG.allowedValues(ServiceSettings.DELIVERY).contains(engineSetting(ServiceSettings.DELIVERY)));
    }

    /** A property's value for the compose engine: its environment, else the service's default. */
    private String engineSetting(String property) {
        return compose.environment("engine").getOrDefault(ServiceSettings.envName(property), CONFIG.value(property));
    }

    @Test
    void prometheusScrapesTheMetricsEndpointOfEngineAndGateway() {
        JsonNode prometheus = compose.service("prometheus");
        String mount = prometheus.path("volumes").valueStream().map(JsonNode::asText)
                .filter(v -> v.endsWith(":/etc/prometheus/prometheus.yml:ro")).findFirst()
                .orElseThrow(() -> new AssertionError("Prometheus config is not mounted"));
        String file = mount.substring(0, mount.indexOf(':')).replaceFirst("^\\./", "");
        JsonNode config = Yaml.readAll(RepoFiles.resolve(file)).getFirst();
        Map<String, String> scraped = new HashMap<>();
        for (JsonNode job : config.path("scrape_configs")) {
            for (JsonNode target : job.path("static_configs").path(0).path("targets")) {
                scraped.put(target.asText(), job.path("metrics_path").asText("/metrics"));
            }
        }
        for (String service : List.of("engine", "gateway")) {
            assertEquals(CONFIG.metricsPath(), scraped.get(service + ":" + CONFIG.managementPort()),
                    "Prometheus scrapes " + service + " at " + CONFIG.metricsPath() + ", scrapes " + scraped);
        }
    }

    @Test
    void engineGetsTimeToDrainOnStop() {
        long grace = seconds(compose.service("engine").path("stop_grace_period").asText());
        long drain = KubernetesManifestsTest.drainSeconds(
                compose.environment("engine").get(ServiceSettings.envName(ServiceSettings.DRAIN_TIMEOUT)));
        assertTrue(grace >= drain + KubernetesManifestsTest.STREAMS_CLOSE_SECONDS, "stop_grace_period " + grace
                + " s, drain " + drain + " s, Kafka Streams' close " + KubernetesManifestsTest.STREAMS_CLOSE_SECONDS + " s");
    }

    /** A compose duration ("120s", "2m", "1m30s") in seconds. */
    static long seconds(String composeDuration) {
        if (composeDuration.isEmpty()) {
            throw new IllegalArgumentException("no duration");
        }
        try {
            return Duration.parse("PT" + composeDuration.toUpperCase(Locale.ROOT)).toSeconds();
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("not a compose duration: " + composeDuration, e);
        }
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> list = new java.util.ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }
}
