package io.ternstream.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.micrometer.core.instrument.Meter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every kustomization under k8s/ renders, parses with the fabric8 Kubernetes model without unknown
 * fields, and keeps the invariants the service and Kafka need: the service's image, ports, environment
 * names and health endpoints; topics and store changelogs as the service and Kafka Streams expect them;
 * no more engine pods than prompt partitions; static group membership; a volume for the session stores;
 * standbys and delivery the cluster can carry; a restricted security context.
 */
class KubernetesManifestsTest {

    static final String ENGINE = "ternstream-engine";
    static final String GATEWAY = "ternstream-gateway";
    static final List<String> OVERLAYS = List.of("k8s/overlays/dev", "k8s/overlays/prod");

    /** Environment variables that are not Quarkus configuration: read by the JVM, DJL or used for $(...) expansion. */
    static final Set<String> NON_CONFIG_ENV = Set.of("POD_NAME", "JDK_JAVA_OPTIONS", "DJL_CACHE_DIR", "OPT_OUT_TRACKING");

    /**
     * What the engine gives Kafka Streams' close after the drain (EngineStreams.close): its last commit and
     * leaving the group. The grace period must cover it, or the pod is killed before its partitions move.
     */
    static final long STREAMS_CLOSE_SECONDS = 30;

    /** Producer max.request.size of the service (KafkaConnection.producerProperties): topics must accept it. */
    static final int SERVICE_MAX_RECORD_BYTES = 8 * 1024 * 1024;

    private static final Map<String, Rendered> RENDERED = new ConcurrentHashMap<>();
    private static final ServiceSettings CONFIG = ServiceSettings.load();

    static Stream<String> kustomizations() {
        return Stream.concat(Stream.of("k8s/base"), OVERLAYS.stream());
    }

    static Rendered render(String dir) {
        return RENDERED.computeIfAbsent(dir, Rendered::of);
    }

    // ---- structure -------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kustomizations")
    void everyManifestParsesWithTheKubernetesModel(String dir) {
        Rendered r = render(dir);
        Set<String> kinds = new java.util.TreeSet<>();
        r.resources().forEach(res -> kinds.add(res.getKind()));
        assertTrue(kinds.containsAll(Set.of("ConfigMap", "StatefulSet", "Service", "PodDisruptionBudget",
                "HorizontalPodAutoscaler", "NetworkPolicy", "ScaledObject", "KafkaTopic", "ServiceAccount")),
                dir + " renders only " + kinds);
        for (HasMetadata res : r.resources()) {
            assertTrue(res.getMetadata().getName().matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?"),
                    "not a DNS-1123 name: " + res.getMetadata().getName());
        }
    }

    @Test
    void everyManifestFileIsPartOfAKustomization() throws IOException {
        Path k8s = RepoFiles.resolve("k8s");
        List<Path> orphans = new ArrayList<>();
        try (Stream<Path> files = Files.walk(k8s)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).toList()) {
                if (f.getFileName().toString().equals("kustomization.yaml")) {
                    continue;
                }
                Path kustomization = f.getParent().resolve("kustomization.yaml");
                boolean listed = Files.exists(kustomization) && Yaml.readAll(kustomization).getFirst().path("resources")
                        .valueStream().anyMatch(e -> f.getParent().resolve(e.asText()).normalize().equals(f.normalize()));
                if (!listed) {
                    orphans.add(k8s.relativize(f));
                }
            }
        }
        assertEquals(List.of(), orphans, "manifests no kustomization lists (so nothing checks or applies them)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/overlays/dev", "k8s/overlays/prod"})
    void overlaysBuildOnTheBaseInTheirOwnRestrictedNamespace(String dir) {
        var kustomization = Yaml.readAll(RepoFiles.resolve(dir).resolve("kustomization.yaml")).getFirst();
        assertTrue(kustomization.path("resources").valueStream().anyMatch(e -> e.asText().equals("../../base")),
                dir + " must build on ../../base");
        String ns = kustomization.path("namespace").asText();
        assertFalse(ns.isEmpty(), dir + " sets no namespace");
        Rendered r = render(dir);
        Namespace namespace = r.one(Namespace.class, ns);
        assertEquals("restricted", namespace.getMetadata().getLabels().get("pod-security.kubernetes.io/enforce"),
                "namespace " + ns + " must enforce the restricted Pod Security Standard");
        for (HasMetadata res : r.resources()) {
            if (!(res instanceof Namespace)) {
                assertEquals(ns, res.getMetadata().getNamespace(), Rendered.id(res));
            }
        }
    }

    // ---- the service's image, roles, environment, ports and endpoints ------------------------------

    @ParameterizedTest
    @MethodSource("kustomizations")
    void workloadsRunTheServiceImageInTheirRole(String dir) {
        Rendered r = render(dir);
        String composeImage = Compose.load().service("engine").path("image").asText();
        Map<String, String> roles = Map.of(ENGINE, "engine", GATEWAY, "gateway");
        for (var workload : workloads(r).entrySet()) {
            List<Container> containers = workload.getValue().getSpec().getContainers();
            assertEquals(1, containers.size(), workload.getKey() + " runs one container");
            Container c = containers.getFirst();
            assertEquals(Kustomize.imageName(composeImage), Kustomize.imageName(c.getImage()), workload.getKey() + " image");
            assertEquals(Kustomize.imageTag(composeImage), Kustomize.imageTag(c.getImage()),
                    workload.getKey() + ": the tag docker-compose.yml builds");
            assertNotNull(CONFIG.value(ServiceSettings.ROLE), ServiceSettings.PROPERTIES + " declares no " + ServiceSettings.ROLE);
            String role = env(c, ServiceSettings.envName(ServiceSettings.ROLE));
            assertEquals(roles.get(workload.getKey()), role, workload.getKey() + " role");
            assertTrue(CONFIG.allowedValues(ServiceSettings.ROLE).contains(role), role);
        }
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void environmentNamesAreServiceProperties(String dir) {
        Rendered r = render(dir);
        List<String> unknown = new ArrayList<>();
        for (String key : r.config().keySet()) {
            if (!isKnownEnv(key)) {
                unknown.add("ConfigMap " + key);
            }
        }
        for (var w : workloads(r).entrySet()) {
            for (EnvVar e : w.getValue().getSpec().getContainers().getFirst().getEnv()) {
                if (!isKnownEnv(e.getName())) {
                    unknown.add(w.getKey() + " " + e.getName());
                }
            }
            var envFrom = w.getValue().getSpec().getContainers().getFirst().getEnvFrom();
            assertTrue(envFrom.stream().anyMatch(f -> f.getConfigMapRef() != null
                    && r.all(io.fabric8.kubernetes.api.model.ConfigMap.class).stream()
                    .anyMatch(cm -> cm.getMetadata().getName().equals(f.getConfigMapRef().getName()))),
                    w.getKey() + " takes its settings from the ConfigMap");
        }
        assertEquals(List.of(), unknown, "environment variables that set no property of the service");
    }

    static boolean isKnownEnv(String name) {
        return CONFIG.propertyOfEnv(name) != null || NON_CONFIG_ENV.contains(name)
                || (!CONFIG.hasGatewayMapping()
                    && ServiceSettings.GATEWAY_PROPERTIES.stream().map(ServiceSettings::envName).anyMatch(name::equals));
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void portsProbesAndMetricsHitTheServiceEndpoints(String dir) {
        Rendered r = render(dir);
        for (var w : workloads(r).entrySet()) {
            PodTemplateSpec pod = w.getValue();
            Container c = pod.getSpec().getContainers().getFirst();
            ContainerPort http = c.getPorts().stream().filter(p -> "http".equals(p.getName())).findFirst()
                    .orElseThrow(() -> new AssertionError(w.getKey() + " has no port named http"));
            assertEquals(CONFIG.httpPort(), http.getContainerPort(), w.getKey() + " http port = quarkus.http.port");
            checkProbe(w.getKey() + " startup", c.getStartupProbe(), CONFIG.healthPath("started"), c);
            checkProbe(w.getKey() + " liveness", c.getLivenessProbe(), CONFIG.healthPath("live"), c);
            checkProbe(w.getKey() + " readiness", c.getReadinessProbe(), CONFIG.healthPath("ready"), c);
            // The startup probe, not liveness, must cover model loading: its budget must exceed liveness'.
            Probe startup = c.getStartupProbe();
            Probe live = c.getLivenessProbe();
            assertTrue(startup.getPeriodSeconds() * startup.getFailureThreshold()
                    > live.getPeriodSeconds() * live.getFailureThreshold(), w.getKey() + " startup budget");
            Map<String, String> a = pod.getMetadata().getAnnotations();
            assertEquals("true", a.get("prometheus.io/scrape"), w.getKey());
            assertEquals(CONFIG.metricsPath(), a.get("prometheus.io/path"), w.getKey() + " metrics path");
            assertEquals(String.valueOf(CONFIG.managementPort()), a.get("prometheus.io/port"), w.getKey() + " metrics port");
        }
    }

    private static void checkProbe(String what, Probe probe, String expectedPath, Container c) {
        assertNotNull(probe, what + " probe missing");
        HTTPGetAction get = probe.getHttpGet();
        assertNotNull(get, what + " probe must be an HTTP GET on the health endpoint");
        assertEquals(expectedPath, get.getPath(), what + " probe path");
        assertEquals(CONFIG.managementPort(), containerPort(c, get.getPort()), what + " probe port");
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void servicesSelectTheirWorkloadAndNamedPorts(String dir) {
        Rendered r = render(dir);
        Map<String, PodTemplateSpec> workloads = workloads(r);
        for (Service s : r.all(Service.class)) {
            List<String> selected = workloads.entrySet().stream()
                    .filter(w -> selects(s.getSpec().getSelector(), w.getValue())).map(Map.Entry::getKey).toList();
            assertEquals(1, selected.size(), "Service " + s.getMetadata().getName() + " selects " + selected);
            assertTrue(s.getMetadata().getName().startsWith(selected.getFirst()), "Service " + s.getMetadata().getName()
                    + " is named after the workload it selects");
            Container c = workloads.get(selected.getFirst()).getSpec().getContainers().getFirst();
            for (ServicePort p : s.getSpec().getPorts()) {
                assertEquals(CONFIG.httpPort(), containerPort(c, p.getTargetPort()), "Service port " + p.getName());
            }
        }
        for (StatefulSet set : r.all(StatefulSet.class)) {
            Service headless = r.one(Service.class, set.getSpec().getServiceName());
            assertEquals("None", headless.getSpec().getClusterIP(), "a StatefulSet's governing Service is headless");
            assertTrue(selects(headless.getSpec().getSelector(), set.getSpec().getTemplate()));
        }
    }

    // ---- Kafka topics, autoscaling, membership ------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kustomizations")
    void topicsAreTheServiceTopicsAndTheStoreChangelogsCompactedAndCoPartitioned(String dir) {
        Rendered r = render(dir);
        Map<String, String> cm = r.config();
        Map<String, GenericKubernetesResource> byLogical = new HashMap<>();
        for (var t : ServiceSettings.TOPIC_PROPERTIES.entrySet()) {
            String name = cm.getOrDefault(ServiceSettings.envName(t.getValue()), CONFIG.topic(t.getKey()));
            assertEquals(CONFIG.topic(t.getKey()), name, "ConfigMap renames topic " + t.getKey()
                    + "; keep the service default so docker-compose, clients and k8s agree");
            byLogical.put(t.getKey(), topic(r, name));
        }
        // Kafka Streams names each store's changelog after the application id, which is the group id
        String applicationId = engineSetting(r, ServiceSettings.GROUP_ID);
        Map<String, Set<String>> stores = EngineStores.sourcesByStore(CONFIG);
        for (var store : stores.entrySet()) {
            GenericKubernetesResource changelog = topic(r, EngineStores.changelog(applicationId, store.getKey()));
            assertEquals("compact", config(changelog).get("cleanup.policy"),
                    topicName(changelog) + ": a store's changelog must be compacted (restores read the latest record per key)");
            for (String source : store.getValue()) {
                assertEquals(partitions(topic(r, source)), partitions(changelog), topicName(changelog)
                        + " must have the partition count of " + source + " (partition N of each feeds task N)");
            }
        }
        assertEquals(ServiceSettings.TOPIC_PROPERTIES.size() + stores.size(), r.custom("KafkaTopic").size(),
                "one KafkaTopic per service topic and per store changelog (stores " + stores.keySet() + ")");
        assertEquals("false", cm.get(ServiceSettings.envName(ServiceSettings.TOPICS_CREATE)),
                "Strimzi owns the topics: the service must not create them with its default partition count");
        List<GenericKubernetesResource> wholeStates = new ArrayList<>(List.of(byLogical.get("prompts")));
        stores.keySet().forEach(store -> wholeStates.add(topic(r, EngineStores.changelog(applicationId, store))));
        for (GenericKubernetesResource t : wholeStates) {
            assertTrue(Long.parseLong(config(t).getOrDefault("max.message.bytes", "1048588")) >= SERVICE_MAX_RECORD_BYTES,
                    topicName(t) + " must accept a whole session state (fork imports, session records, pending prompts)");
        }
        for (String logical : List.of("prompts", "replies", "dead-letters")) {
            assertNotEquals("compact", config(byLogical.get(logical)).get("cleanup.policy"), logical + " must not be compacted");
        }
        String cluster = null;
        for (GenericKubernetesResource t : r.custom("KafkaTopic")) {
            assertTrue(t.getApiVersion().startsWith("kafka.strimzi.io/"), t.getApiVersion());
            Set<String> known = Set.of("topicName", "partitions", "replicas", "config");
            assertTrue(known.containsAll(spec(t).keySet()), "KafkaTopic spec fields " + spec(t).keySet());
            for (String key : config(t).keySet()) {
                assertTrue(TopicConfigs.NAMES.contains(key), "not a Kafka topic config: " + key);
            }
            int replicas = ((Number) Rendered.at(t, "spec", "replicas")).intValue();
            int minIsr = Integer.parseInt(config(t).getOrDefault("min.insync.replicas", "1"));
            assertTrue(minIsr <= replicas, topicName(t) + ": min.insync.replicas > replicas blocks every write");
            String c = t.getMetadata().getLabels().get("strimzi.io/cluster");
            assertNotNull(c, "KafkaTopic without strimzi.io/cluster label");
            assertTrue(cluster == null || cluster.equals(c), "all topics in one cluster");
            cluster = c;
        }
        assertEquals(String.valueOf(partitions(byLogical.get("prompts"))), cm.get(ServiceSettings.envName(ServiceSettings.TOPICS_PARTITIONS)),
                "the gateway creates its reply and owners topics with ternstream.topics.partitions: keep it the prompts' count");
        assertEquals(cluster + "-kafka-bootstrap", bootstrap(r).split(":")[0],
                "bootstrap servers are the Strimzi cluster's bootstrap Service");
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void kedaScalesTheEngineOnSessionsWithWorkAndPromptLagWithinThePartitionCount(String dir) {
        Rendered r = render(dir);
        List<GenericKubernetesResource> scaled = r.custom("ScaledObject");
        assertEquals(1, scaled.size());
        GenericKubernetesResource so = scaled.getFirst();
        assertEquals("keda.sh/v1alpha1", so.getApiVersion());
        assertTrue(Set.of("scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
                "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers").containsAll(spec(so).keySet()),
                "ScaledObject spec fields " + spec(so).keySet());
        assertEquals("StatefulSet", Rendered.at(so, "spec", "scaleTargetRef", "kind"));
        assertEquals("apps/v1", Rendered.at(so, "spec", "scaleTargetRef", "apiVersion"));
        StatefulSet engine = r.one(StatefulSet.class, (String) Rendered.at(so, "spec", "scaleTargetRef", "name"));
        assertEquals(ENGINE, engine.getMetadata().getName());

        int partitions = partitions(topic(r, CONFIG.topic("prompts")));
        int min = ((Number) Rendered.at(so, "spec", "minReplicaCount")).intValue();
        int max = ((Number) Rendered.at(so, "spec", "maxReplicaCount")).intValue();
        assertTrue(min >= 1, "engines never scale to zero (model load before the first token)");
        assertTrue(min <= max, "minReplicaCount <= maxReplicaCount");
        assertTrue(max <= partitions, "maxReplicaCount " + max + " > prompt partitions " + partitions + ": extra pods would idle");
        assertNull(engine.getSpec().getReplicas(), "KEDA owns the engine count: replicas in the manifest would reset it on every apply");

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> triggers = (List<Map<String, Object>>) Rendered.at(so, "spec", "triggers");
        assertEquals(List.of("prometheus", "kafka"), triggers.stream().map(t -> t.get("type")).toList(),
                "engines scale on their sessions with work and on the prompts' consumer lag");
        for (Map<String, Object> trigger : triggers) {
            for (Object v : ((Map<?, ?>) trigger.get("metadata")).values()) {
                assertTrue(v instanceof String, "KEDA trigger metadata values are strings: " + v);
            }
        }
        checkSessionsTrigger(r, metadata(triggers.get(0)));
        Map<String, Object> md = metadata(triggers.get(1));
        assertTrue(Set.of("bootstrapServers", "consumerGroup", "topic", "lagThreshold", "activationLagThreshold",
                "offsetResetPolicy", "allowIdleConsumers", "scaleToZeroOnInvalidOffset", "excludePersistentLag",
                "limitToPartitionsWithLag", "partitionLimitation", "sasl", "tls", "version").containsAll(md.keySet()),
                "kafka trigger metadata " + md.keySet());
        assertEquals(bootstrap(r), md.get("bootstrapServers"));
        assertEquals(CONFIG.topic("prompts"), md.get("topic"));
        assertEquals(engineSetting(r, ServiceSettings.GROUP_ID), md.get("consumerGroup"),
                "the engines' consumer group (their Kafka Streams application id)");
        assertEquals("false", md.get("allowIdleConsumers"), "no replicas beyond the partition count");
        assertTrue(Integer.parseInt((String) md.get("lagThreshold")) > 0);
        // Kafka Streams' consumers start at the earliest offset when the group has none
        assertEquals("earliest", md.get("offsetResetPolicy"), "KEDA counts lag from where the service starts reading");
    }

    /**
     * The Prometheus trigger: a query over metrics the engine exports, restricted to this installation's
     * namespace, and a per-pod target.
     */
    private static void checkSessionsTrigger(Rendered r, Map<String, Object> md) {
        assertTrue(Set.of("serverAddress", "query", "threshold", "activationThreshold", "namespace", "customHeaders",
                "ignoreNullValues", "queryParameters", "unsafeSsl", "authModes").containsAll(md.keySet()),
                "prometheus trigger metadata " + md.keySet());
        assertTrue(((String) md.get("serverAddress")).matches("https?://[a-z0-9.-]+(:\\d+)?(/.*)?"), "serverAddress " + md.get("serverAddress"));
        assertTrue(Double.parseDouble((String) md.get("threshold")) > 0, "threshold: sessions with work one pod should carry");
        String query = (String) md.get("query");
        Map<String, Meter.Type> exported = EngineMetrics.series();
        Matcher metric = Pattern.compile("ternstream_[a-z0-9_]+").matcher(query);
        List<String> named = new ArrayList<>();
        while (metric.find()) {
            named.add(metric.group());
        }
        assertFalse(named.isEmpty(), "the query names no engine metric: " + query);
        for (String name : named) {
            assertTrue(exported.containsKey(name), "the query asks for " + name + ", which the engine does not export "
                    + "(Prometheus would answer with nothing and KEDA would never scale on it); it exports " + exported.keySet());
        }
        assertTrue(query.contains("ternstream_sessions_active"), "the query measures the sessions with work: " + query);
        String namespace = r.one(StatefulSet.class, ENGINE).getMetadata().getNamespace();
        if (namespace != null) {
            assertTrue(query.contains("namespace=\"" + namespace + "\""),
                    "the query must count only the engines of namespace " + namespace + ": " + query);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> metadata(Map<String, Object> trigger) {
        return (Map<String, Object>) trigger.get("metadata");
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void enginesUseStaticGroupMembershipFromThePodName(String dir) {
        StatefulSet engine = render(dir).one(StatefulSet.class, ENGINE);
        List<EnvVar> env = engine.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv();
        int podName = indexOf(env, "POD_NAME");
        assertTrue(podName >= 0, "POD_NAME env");
        assertEquals("metadata.name", env.get(podName).getValueFrom().getFieldRef().getFieldPath());
        String instanceEnv = ServiceSettings.envName(ServiceSettings.GROUP_INSTANCE_ID);
        int instance = indexOf(env, instanceEnv);
        assertTrue(instance > podName, instanceEnv + " must follow POD_NAME so $(POD_NAME) expands");
        assertEquals("$(POD_NAME)", env.get(instance).getValue());
        assertTrue(CONFIG.declared().contains(ServiceSettings.GROUP_INSTANCE_ID), instanceEnv + " is not a service property");
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void enginesKeepTheirStoresOnTheirOwnVolumeAtTheStateDir(String dir) {
        StatefulSet engine = render(dir).one(StatefulSet.class, ENGINE);
        Container c = engine.getSpec().getTemplate().getSpec().getContainers().getFirst();
        String stateDir = env(c, ServiceSettings.envName(ServiceSettings.STATE_DIR));
        assertTrue(CONFIG.declared().contains(ServiceSettings.STATE_DIR), ServiceSettings.STATE_DIR + " is not a service property");
        assertTrue(stateDir.startsWith("/"), "state dir " + stateDir + " must be absolute");
        Path state = Path.of(stateDir).normalize();
        // the root filesystem is read-only: the folder must be on a mounted volume
        VolumeMount mount = c.getVolumeMounts().stream().filter(m -> state.startsWith(Path.of(m.getMountPath()).normalize()))
                .max(Comparator.comparingInt(m -> Path.of(m.getMountPath()).getNameCount()))
                .orElseThrow(() -> new AssertionError(dir + ": nothing is mounted at " + stateDir));
        assertFalse(Boolean.TRUE.equals(mount.getReadOnly()), "the state volume is mounted read-only");
        // a volume per pod, kept across its restarts: a restarted pod restores only the changelogs' tail,
        // and no two instances ever share a state folder
        PersistentVolumeClaim claim = engine.getSpec().getVolumeClaimTemplates().stream()
                .filter(t -> t.getMetadata().getName().equals(mount.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(dir + ": " + stateDir + " is on volume " + mount.getName()
                        + ", which is not one of the StatefulSet's volumeClaimTemplates"));
        assertTrue(engine.getSpec().getTemplate().getSpec().getVolumes().stream().noneMatch(v -> v.getName().equals(mount.getName())),
                "a pod volume named " + mount.getName() + " would shadow the claim template");
        assertEquals(List.of("ReadWriteOnce"), claim.getSpec().getAccessModes());
        assertNotNull(claim.getSpec().getResources().getRequests().get("storage"), "the state volume requests no storage");
        // the volume is writable by the runtime user through fsGroup
        assertEquals(DockerfileTest.runtimeUid(), engine.getSpec().getTemplate().getSpec().getSecurityContext().getFsGroup().intValue(),
                "fsGroup makes the state volume writable by the image's user");
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void standbyReplicasFitTheMinimumScale(String dir) {
        Rendered r = render(dir);
        int standbys = Integer.parseInt(engineSetting(r, ServiceSettings.STANDBY_REPLICAS));
        int min = ((Number) Rendered.at(r.custom("ScaledObject").getFirst(), "spec", "minReplicaCount")).intValue();
        assertTrue(standbys >= 0);
        assertTrue(standbys == 0 || standbys < min, dir + ": " + standbys + " standby replicas need " + (standbys + 1)
                + " engine pods, minReplicaCount is " + min + " (a standby never lives on its active's pod)");
        if (dir.endsWith("/prod")) {
            assertTrue(standbys >= 1, "prod keeps a standby of every partition's stores, so a partition whose pod"
                    + " fails or drains is served at once instead of after restoring its whole changelog");
        }
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void exactlyOnceOnlyWhereTheClusterHasBrokersForTheTransactionLog(String dir) {
        Rendered r = render(dir);
        String delivery = engineSetting(r, ServiceSettings.DELIVERY);
        assertTrue(CONFIG.allowedValues(ServiceSettings.DELIVERY).contains(delivery), dir + ": delivery " + delivery);
        if (delivery.equals("exactly-once")) {
            // the transaction state log's broker defaults: replication 3, min ISR 2
            for (GenericKubernetesResource t : r.custom("KafkaTopic")) {
                assertTrue(((Number) Rendered.at(t, "spec", "replicas")).intValue() >= 3
                        && Integer.parseInt(config(t).getOrDefault("min.insync.replicas", "1")) >= 2,
                        dir + ": exactly-once on a cluster with fewer than 3 brokers (" + topicName(t) + ")");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void gatewaysNameTheirReplyTopicAfterThePodAndTakeKeysFromASecret(String dir) {
        StatefulSet gateway = render(dir).one(StatefulSet.class, GATEWAY);
        List<EnvVar> env = gateway.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv();
        int podName = indexOf(env, "POD_NAME");
        assertTrue(podName >= 0 && "metadata.name".equals(env.get(podName).getValueFrom().getFieldRef().getFieldPath()));
        int replica = indexOf(env, ServiceSettings.envName(ServiceSettings.GATEWAY_REPLICA_ID));
        assertTrue(replica > podName, "the replica id (and so the reply topic) is the stable pod name");
        assertEquals("$(POD_NAME)", env.get(replica).getValue());
        int keys = indexOf(env, ServiceSettings.envName(ServiceSettings.GATEWAY_API_KEY_HASHES));
        assertTrue(keys >= 0, "the prod profile requires API keys");
        var ref = env.get(keys).getValueFrom().getSecretKeyRef();
        assertNotNull(ref, "API key digests come from a Secret, never from the manifests");
        assertEquals("ternstream-gateway-keys", ref.getName());
        assertFalse(Boolean.TRUE.equals(ref.getOptional()),
                "a missing Secret must keep the pod from starting (visible), not start a gateway that refuses everything");
        assertTrue(indexOf(env, ServiceSettings.envName(ServiceSettings.GATEWAY_REQUIRE_API_KEYS)) < 0,
                "Kubernetes keeps the prod profile's key requirement");
    }

    // ---- scaling, disruption, shutdown, resources ---------------------------------------------------

    @ParameterizedTest
    @MethodSource("kustomizations")
    void gatewayHpaAndDisruptionBudgets(String dir) {
        Rendered r = render(dir);
        HorizontalPodAutoscaler hpa = r.one(HorizontalPodAutoscaler.class, GATEWAY);
        assertEquals("StatefulSet", hpa.getSpec().getScaleTargetRef().getKind());
        StatefulSet gateway = r.one(StatefulSet.class, hpa.getSpec().getScaleTargetRef().getName());
        assertEquals(GATEWAY, gateway.getMetadata().getName());
        assertTrue(hpa.getSpec().getMinReplicas() >= 1 && hpa.getSpec().getMinReplicas() <= hpa.getSpec().getMaxReplicas());
        assertNull(gateway.getSpec().getReplicas(), "the HPA owns the gateway count: replicas in the manifest would reset it on every apply");
        assertTrue(hpa.getSpec().getMetrics().stream().anyMatch(m -> m.getResource() != null
                && "cpu".equals(m.getResource().getName())));
        assertNotNull(gateway.getSpec().getTemplate().getSpec().getContainers().getFirst().getResources().getRequests().get("cpu"),
                "CPU utilization needs a CPU request");

        Map<String, PodTemplateSpec> workloads = workloads(r);
        Map<String, Integer> minReplicas = Map.of(ENGINE,
                ((Number) Rendered.at(r.custom("ScaledObject").getFirst(), "spec", "minReplicaCount")).intValue(),
                GATEWAY, hpa.getSpec().getMinReplicas());
        assertEquals(2, r.all(PodDisruptionBudget.class).size());
        for (PodDisruptionBudget pdb : r.all(PodDisruptionBudget.class)) {
            List<String> selected = workloads.entrySet().stream()
                    .filter(w -> selects(pdb.getSpec().getSelector().getMatchLabels(), w.getValue())).map(Map.Entry::getKey).toList();
            assertEquals(1, selected.size(), "PDB " + pdb.getMetadata().getName() + " selects " + selected);
            IntOrString minAvailable = pdb.getSpec().getMinAvailable();
            IntOrString maxUnavailable = pdb.getSpec().getMaxUnavailable();
            assertTrue(minAvailable == null ^ maxUnavailable == null, "exactly one of minAvailable/maxUnavailable");
            if (minAvailable != null) {
                assertTrue(minAvailable.getIntVal() < minReplicas.get(selected.getFirst()),
                        "PDB " + pdb.getMetadata().getName() + " would block every node drain at minimum scale");
            } else {
                assertTrue(maxUnavailable.getIntVal() >= 1);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void gracePeriodsOutlastTheDrainAndResourcesAreBounded(String dir) {
        Rendered r = render(dir);
        for (var w : workloads(r).entrySet()) {
            var spec = w.getValue().getSpec();
            long grace = spec.getTerminationGracePeriodSeconds();
            long drain = drainSeconds(spec.getContainers().getFirst().getEnv().stream()
                    .filter(e -> e.getName().equals(ServiceSettings.envName(ServiceSettings.DRAIN_TIMEOUT)))
                    .map(EnvVar::getValue).findFirst().orElse(null));
            long close = w.getKey().equals(ENGINE) ? STREAMS_CLOSE_SECONDS : 10;
            assertTrue(grace >= drain + close, w.getKey() + ": terminationGracePeriodSeconds " + grace
                    + " must outlast the drain of in-flight turns (" + drain + " s) plus the close (" + close + " s)");
            var res = spec.getContainers().getFirst().getResources();
            for (String kind : List.of("cpu", "memory")) {
                assertNotNull(res.getRequests().get(kind), w.getKey() + " requests " + kind);
                assertNotNull(res.getLimits().get(kind), w.getKey() + " limits " + kind);
                assertTrue(Quantity.getAmountInBytes(res.getLimits().get(kind))
                        .compareTo(Quantity.getAmountInBytes(res.getRequests().get(kind))) >= 0, w.getKey() + " limit >= request");
            }
            // Memory above the request is not guaranteed: an engine that bursts into it is the first OOM-kill.
            assertEquals(res.getRequests().get("memory"), res.getLimits().get("memory"), w.getKey() + " memory request = limit");
        }
        StatefulSet engine = r.one(StatefulSet.class, ENGINE);
        assertTrue(engine.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()
                >= ComposeTest.seconds(Compose.load().service("engine").path("stop_grace_period").asText()),
                "k8s gives the engine at least the grace docker-compose gives it");
    }

    /** Seconds the engine may take to drain on SIGTERM: the deployment's override, else the service's default. */
    static long drainSeconds(String override) {
        return override == null ? CONFIG.seconds(ServiceSettings.DRAIN_TIMEOUT) : ComposeTest.seconds(override);
    }

    static String bootstrap(Rendered r) {
        String servers = r.config().get(ServiceSettings.envName(ServiceSettings.BOOTSTRAP_SERVERS));
        assertNotNull(servers, "the ConfigMap must name the Kafka cluster (else the service starts an embedded broker)");
        return servers;
    }

    // ---- security -------------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("kustomizations")
    void podsMeetTheRestrictedPodSecurityStandard(String dir) {
        Rendered r = render(dir);
        int imageUser = DockerfileTest.runtimeUid();
        for (var w : workloads(r).entrySet()) {
            var spec = w.getValue().getSpec();
            PodSecurityContext pod = spec.getSecurityContext();
            assertEquals(Boolean.TRUE, pod.getRunAsNonRoot(), w.getKey() + " runAsNonRoot");
            assertEquals("RuntimeDefault", pod.getSeccompProfile().getType(), w.getKey() + " seccomp");
            assertEquals(imageUser, pod.getRunAsUser().intValue(), w.getKey() + " runs as the image's user");
            assertFalse(Boolean.TRUE.equals(spec.getHostNetwork()) || Boolean.TRUE.equals(spec.getHostPID())
                    || Boolean.TRUE.equals(spec.getHostIPC()), w.getKey() + " host namespaces");
            assertEquals(Boolean.FALSE, spec.getAutomountServiceAccountToken(), w.getKey() + " needs no API token");
            for (Volume v : spec.getVolumes()) {
                assertNull(v.getHostPath(), w.getKey() + " hostPath volume");
            }
            Container c = spec.getContainers().getFirst();
            SecurityContext sc = c.getSecurityContext();
            assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation(), w.getKey());
            assertFalse(Boolean.TRUE.equals(sc.getPrivileged()), w.getKey());
            assertEquals(List.of("ALL"), sc.getCapabilities().getDrop(), w.getKey() + " drops all capabilities");
            assertTrue(sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty(), w.getKey());
            assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem(), w.getKey() + " read-only root");
            // Read-only root: the JVM and the tokenizer's native library need a writable /tmp.
            String tmpVolume = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp")).findFirst()
                    .orElseThrow(() -> new AssertionError(w.getKey() + " mounts no /tmp")).getName();
            assertTrue(spec.getVolumes().stream().anyMatch(v -> v.getName().equals(tmpVolume) && v.getEmptyDir() != null));
        }
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void networkPoliciesDenyByDefaultAndOpenOnlyWhatIsUsed(String dir) {
        Rendered r = render(dir);
        Map<String, PodTemplateSpec> workloads = workloads(r);
        List<NetworkPolicy> policies = r.all(NetworkPolicy.class);
        NetworkPolicy deny = policies.stream().filter(p -> p.getSpec().getIngress().isEmpty() && p.getSpec().getEgress().isEmpty())
                .findFirst().orElseThrow(() -> new AssertionError("no default-deny NetworkPolicy"));
        assertEquals(Set.of("Ingress", "Egress"), Set.copyOf(deny.getSpec().getPolicyTypes()));
        for (var w : workloads.entrySet()) {
            assertTrue(selects(deny.getSpec().getPodSelector().getMatchLabels(), w.getValue()), "default deny covers " + w.getKey());
        }
        int kafkaPort = Integer.parseInt(bootstrap(r).split(":")[1]);
        for (var w : workloads.entrySet()) {
            List<NetworkPolicy> mine = policies.stream()
                    .filter(p -> selects(p.getSpec().getPodSelector().getMatchLabels(), w.getValue())).toList();
            assertTrue(mine.stream().flatMap(p -> p.getSpec().getEgress().stream())
                    .anyMatch(e -> hasPort(e.getPorts(), kafkaPort) && e.getTo().stream().anyMatch(KubernetesManifestsTest::isKafkaPeer)),
                    w.getKey() + " may reach Kafka on " + kafkaPort);
            assertTrue(mine.stream().flatMap(p -> p.getSpec().getEgress().stream()).anyMatch(e -> hasPort(e.getPorts(), 53)),
                    w.getKey() + " may resolve DNS");
            assertTrue(mine.stream().flatMap(p -> p.getSpec().getIngress().stream())
                    .anyMatch(i -> hasPort(i.getPorts(), CONFIG.managementPort())), w.getKey() + " can be scraped");
        }
        // Only the gateway takes client traffic from anywhere.
        for (NetworkPolicy p : policies) {
            for (var rule : p.getSpec().getIngress()) {
                if (rule.getFrom().isEmpty()) {
                    assertTrue(selects(p.getSpec().getPodSelector().getMatchLabels(), workloads.get(GATEWAY))
                            && !selects(p.getSpec().getPodSelector().getMatchLabels(), workloads.get(ENGINE)),
                            p.getMetadata().getName() + " opens an engine to everyone");
                }
            }
        }
    }

    private static boolean isKafkaPeer(NetworkPolicyPeer peer) {
        return peer.getPodSelector() != null && peer.getPodSelector().getMatchLabels() != null
                && peer.getPodSelector().getMatchLabels().containsKey("strimzi.io/cluster");
    }

    private static boolean hasPort(List<NetworkPolicyPort> ports, int port) {
        return ports.stream().anyMatch(p -> p.getPort() != null && Objects.equals(p.getPort().getIntVal(), port));
    }

    // ---- helpers --------------------------------------------------------------------------------------

    static Map<String, PodTemplateSpec> workloads(Rendered r) {
        Map<String, PodTemplateSpec> w = new java.util.LinkedHashMap<>();
        w.put(ENGINE, r.one(StatefulSet.class, ENGINE).getSpec().getTemplate());
        w.put(GATEWAY, r.one(StatefulSet.class, GATEWAY).getSpec().getTemplate());
        assertEquals(2, r.all(StatefulSet.class).size(), "only the two workloads");
        assertEquals(0, r.all(Deployment.class).size(), "only the two workloads");
        return w;
    }

    static boolean selects(Map<String, String> selector, PodTemplateSpec pod) {
        return selector != null && !selector.isEmpty() && pod.getMetadata().getLabels().entrySet().containsAll(selector.entrySet());
    }

    static String env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " sets no " + name));
    }

    private static int indexOf(List<EnvVar> env, String name) {
        for (int i = 0; i < env.size(); i++) {
            if (env.get(i).getName().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** A probe's or Service's port (number or container port name) as a number. */
    private static int containerPort(Container c, IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + port.getStrVal()))
                .getContainerPort();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> spec(GenericKubernetesResource r) {
        return (Map<String, Object>) Rendered.at(r, "spec");
    }

    /** The KafkaTopic whose topic name is {@code name}. */
    static GenericKubernetesResource topic(Rendered r, String name) {
        return r.custom("KafkaTopic", k -> name.equals(topicName(k)), "for topic " + name);
    }

    /** A property's value for the engine: its container's env, else the ConfigMap, else the service's default. */
    static String engineSetting(Rendered r, String property) {
        String env = ServiceSettings.envName(property);
        Container c = r.one(StatefulSet.class, ENGINE).getSpec().getTemplate().getSpec().getContainers().getFirst();
        return c.getEnv().stream().filter(e -> e.getName().equals(env)).map(EnvVar::getValue).findFirst()
                .orElseGet(() -> r.config().getOrDefault(env, CONFIG.value(property)));
    }

    static String topicName(GenericKubernetesResource topic) {
        Object n = spec(topic).get("topicName");
        return n == null ? topic.getMetadata().getName() : n.toString();
    }

    static int partitions(GenericKubernetesResource topic) {
        return ((Number) Rendered.at(topic, "spec", "partitions")).intValue();
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> config(GenericKubernetesResource topic) {
        Object c = spec(topic).get("config");
        Map<String, String> out = new HashMap<>();
        if (c instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if (!(v instanceof String)) {
                    fail(topicName(topic) + " config " + k + " must be a string, is " + v);
                }
                out.put((String) k, (String) v);
            });
        }
        return out;
    }

    private static void assertNotEquals(Object unexpected, Object actual, String message) {
        org.junit.jupiter.api.Assertions.assertNotEquals(unexpected, actual, message);
    }
}
