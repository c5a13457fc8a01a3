package io.ternstream.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every reader in this module rejects broken input with a message that says where and what. */
class BrokenInputTest {

    @TempDir
    Path dir;

    private static final String DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers:
                    - name: web
                      image: ternstream:1
            """;

    private Path kustomization(String body, String... files) throws IOException {
        Files.writeString(dir.resolve("kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" + body);
        for (int i = 0; i < files.length; i += 2) {
            Files.writeString(dir.resolve(files[i]), files[i + 1]);
        }
        return dir;
    }

    private static String message(Throwable t) {
        return t.getMessage();
    }

    // ---- kustomize rendering ----

    @Test
    void aMissingResourceFileIsNamed() throws IOException {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Kustomize.build(kustomization("resources:\n  - gone.yaml\n")));
        assertTrue(message(e).contains("'gone.yaml', which does not exist"), message(e));
    }

    @Test
    void aDirectoryWithoutKustomizationIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> Kustomize.build(dir));
        assertTrue(message(e).contains("has no kustomization.yaml"), message(e));
    }

    @Test
    void unsupportedKustomizeFieldsAreRejectedNotIgnored() throws IOException {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Kustomize.build(kustomization("configMapGenerator:\n  - name: x\n")));
        assertTrue(message(e).contains("'configMapGenerator'"), message(e));
    }

    @Test
    void invalidYamlNamesTheFile() throws IOException {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Kustomize.build(kustomization("resources:\n  - bad.yaml\n", "bad.yaml", "kind: [unclosed\n")));
        assertTrue(message(e).contains("bad.yaml is not valid YAML"), message(e));
    }

    @Test
    void aDocumentWithoutKindIsRejected() throws IOException {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Kustomize.build(kustomization("resources:\n  - x.yaml\n", "x.yaml", "metadata: {name: x}\n")));
        assertTrue(message(e).contains("without apiVersion/kind"), message(e));
    }

    @Test
    void duplicateResourcesAreRejected() throws IOException {
        var e = assertThrows(IllegalArgumentException.class, () -> Kustomize.build(kustomization(
                "resources:\n  - a.yaml\n  - b.yaml\n", "a.yaml", DEPLOYMENT, "b.yaml", DEPLOYMENT)));
        assertTrue(message(e).contains("Deployment/web appears twice"), message(e));
    }

    @Test
    void aPatchOnAMissingPathFails() throws IOException {
        String patch = """
                resources: [d.yaml]
                patches:
                  - target: {kind: Deployment, name: web}
                    patch: |-
                      - op: replace
                        path: /spec/replicaz
                        value: 2
                """;
        var e = assertThrows(IllegalArgumentException.class, () -> Kustomize.build(kustomization(patch, "d.yaml", DEPLOYMENT)));
        assertTrue(message(e).contains("path /spec/replicaz does not exist"), message(e));
    }

    @Test
    void aPatchMatchingNothingFails() throws IOException {
        String patch = """
                resources: [d.yaml]
                patches:
                  - target: {kind: StatefulSet}
                    patch: |-
                      - op: add
                        path: /spec/replicas
                        value: 2
                """;
        var e = assertThrows(IllegalArgumentException.class, () -> Kustomize.build(kustomization(patch, "d.yaml", DEPLOYMENT)));
        assertTrue(message(e).contains("matches no resource"), message(e));
    }

    @Test
    void strategicMergePatchesAreRejected() throws IOException {
        String patch = """
                resources: [d.yaml]
                patches:
                  - target: {kind: Deployment}
                    patch: |-
                      spec: {replicas: 2}
                """;
        var e = assertThrows(IllegalArgumentException.class, () -> Kustomize.build(kustomization(patch, "d.yaml", DEPLOYMENT)));
        assertTrue(message(e).contains("only JSON6902"), message(e));
    }

    @Test
    void renderingAppliesPatchesNamespaceAndImages() throws IOException {
        String body = """
                namespace: demo
                resources: [d.yaml]
                images:
                  - name: ternstream
                    newTag: "2"
                patches:
                  - target: {kind: Deployment, name: web}
                    patch: |-
                      - op: add
                        path: /spec/replicas
                        value: 3
                      - op: add
                        path: /spec/template/spec/containers/-
                        value: {name: side, image: ternstream:1}
                """;
        List<ObjectNode> out = Kustomize.build(kustomization(body, "d.yaml", DEPLOYMENT));
        ObjectNode d = out.getFirst();
        assertEquals(3, d.at("/spec/replicas").asInt());
        assertEquals("demo", d.at("/metadata/namespace").asText());
        assertEquals("ternstream:2", d.at("/spec/template/spec/containers/0/image").asText());
        assertEquals("ternstream:2", d.at("/spec/template/spec/containers/1/image").asText());
    }

    // ---- JSON patch ----

    @Test
    void jsonPatchRejectsBadPointersOpsAndIndexes() {
        ObjectNode doc = (ObjectNode) Yaml.readOne("a: [1, 2]\n", "doc");
        assertThrows(IllegalArgumentException.class,
                () -> JsonPatch.apply(doc, Yaml.readOne("- {op: add, path: a/0, value: 1}", "p"), "t"));
        assertThrows(IllegalArgumentException.class,
                () -> JsonPatch.apply(doc, Yaml.readOne("- {op: move, path: /a/0, from: /a/1}", "p"), "t"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> JsonPatch.apply(doc, Yaml.readOne("- {op: replace, path: /a/5, value: 1}", "p"), "t"));
        assertTrue(message(e).contains("out of bounds"), message(e));
        assertThrows(IllegalArgumentException.class,
                () -> JsonPatch.apply(doc, Yaml.readOne("- {op: replace, path: /a/x, value: 1}", "p"), "t"));
        assertThrows(IllegalArgumentException.class,
                () -> JsonPatch.apply(doc, Yaml.readOne("- {op: replace, path: /a/0}", "p"), "t"));
        assertThrows(IllegalArgumentException.class, () -> JsonPatch.apply(doc, Yaml.readOne("{op: add}", "p"), "t"));
        JsonPatch.apply(doc, Yaml.readOne("- {op: add, path: /b~1c, value: 1}", "p"), "t");
        assertEquals(1, doc.get("b/c").asInt(), "~1 escapes a slash");
    }

    // ---- the Kubernetes model ----

    @Test
    void unknownAndMistypedFieldsAreReportedWithTheirPath() {
        String typo = DEPLOYMENT.replace("image: ternstream:1", "image: ternstream:1\n          livenesProbe: {}");
        var e = assertThrows(IllegalArgumentException.class, () -> KubeModel.parse(Yaml.readOne(typo, "d")));
        assertTrue(message(e).contains("spec.template.spec.containers[0].livenesProbe"), message(e));
    }

    @Test
    void aKindThatItsApiGroupDoesNotHaveIsRejected() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> KubeModel.parse(Yaml.readOne(DEPLOYMENT.replace("apps/v1", "apps/v2"), "d")));
        assertTrue(message(e).contains("apiVersion apps/v2 has no kind Deployment"), message(e));
        assertTrue(KubeModel.isBuiltInGroup("networking.k8s.io/v1"));
        assertTrue(!KubeModel.isBuiltInGroup("keda.sh/v1alpha1"));
    }

    // ---- service configuration ----

    @Test
    void brokenPropertiesAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> ServiceSettings.parse("a=\\u00zz\n"));
        assertTrue(message(e).contains("application.properties does not parse"), message(e));
    }

    @Test
    void propertiesResolveProfilesExpressionsAndEnvironmentNames() {
        ServiceSettings c = ServiceSettings.parse("""
                ternstream.topics.prompts=${ternstream.prefix:x}.prompts
                ternstream.prefix=acme
                %dev.ternstream.prefix=dev
                %prod.quarkus.http.port=9090
                ternstream.scheduler.drain-timeout=2m
                """);
        assertEquals("acme.prompts", c.topic("prompts"));
        assertEquals(9090, c.httpPort());
        assertEquals(120, c.seconds("ternstream.scheduler.drain-timeout"));
        assertEquals("/q/health/ready", c.healthPath("ready"));
        assertEquals("/q/metrics", c.metricsPath());
        assertEquals("TERNSTREAM_TOPICS_DEAD_LETTERS", ServiceSettings.envName("ternstream.topics.dead-letters"));
        assertEquals("ternstream.prefix", c.propertyOfEnv("TERNSTREAM_PREFIX"));
        assertEquals("quarkus.http.port", c.propertyOfEnv("QUARKUS_HTTP_PORT"));
        assertNull(c.propertyOfEnv("TERNSTREAM_NO_SUCH_THING"));
        assertThrows(AssertionError.class, () -> c.require("ternstream.nothing"));
        assertThrows(AssertionError.class, () -> c.allowedValues("ternstream.prefix"));
        assertThrows(IllegalArgumentException.class, () -> c.healthPath("dead"));
        assertThrows(IllegalArgumentException.class, () -> c.topic("nope"));
        assertThrows(IllegalArgumentException.class, () -> ServiceSettings.parse("a=${a}\n").value("a"));
    }

    enum Color { red, green }

    @io.smallrye.config.ConfigMapping(prefix = "demo")
    interface DemoMapping {
        @io.smallrye.config.WithDefault("red")
        Color color();

        Inner innerGroup();

        interface Inner {
            @io.smallrye.config.WithName("bootstrap-servers")
            java.util.Optional<String> servers();

            @io.smallrye.config.WithDefault("10s")
            java.time.Duration sessionTimeout();
        }
    }

    @Test
    void configMappingsAreReadAsSmallRyeMapsThem() {
        var mapped = new java.util.TreeMap<String, String>();
        var enums = new java.util.TreeMap<String, List<String>>();
        ServiceSettings.readMapping(DemoMapping.class, "demo", mapped, enums);
        assertEquals(java.util.Map.of("demo.color", "red", "demo.inner-group.bootstrap-servers", "",
                "demo.inner-group.session-timeout", "10s"), mapped);
        assertEquals(List.of("red", "green"), enums.get("demo.color"));
    }

    @Test
    void managementInterfaceMovesHealthAndMetrics() {
        ServiceSettings c = ServiceSettings.parse("quarkus.management.enabled=true\n");
        assertEquals(9000, c.managementPort());
        assertEquals("/q/health/started", c.healthPath("started"));
    }

    // ---- docker-compose, Dockerfile, pom ----

    @Test
    void brokenComposeInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Compose.parse("services: [unclosed", "c"));
        assertThrows(IllegalArgumentException.class, () -> Compose.parse("- a\n", "c"));
        var e = assertThrows(IllegalArgumentException.class, () -> Compose.parse("version: x\n", "c"));
        assertTrue(message(e).contains("has no services"), message(e));
        var line = assertThrows(IllegalArgumentException.class,
                () -> Compose.parseTopicLine("kafka-topics.sh --create --topic t --replication-factor 1"));
        assertTrue(message(line).contains("--partitions"), message(line));
        assertThrows(IllegalArgumentException.class,
                () -> Compose.parseTopicLine("kafka-topics.sh --create --topic t --partitions six --replication-factor 1"));
        assertThrows(IllegalArgumentException.class,
                () -> Compose.parseTopicLine("kafka-topics.sh --create --topic t --partitions 1 --replication-factor 1 --config x"));
        assertThrows(IllegalArgumentException.class, () -> ComposeTest.seconds("soon"));
        assertEquals(90, ComposeTest.seconds("1m30s"));
    }

    @Test
    void brokenDockerfilesAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> Dockerfile.parse("FROM a\nRUN x \\\n"));
        assertTrue(message(e).contains("continuation runs past the end"), message(e));
        assertThrows(IllegalArgumentException.class, () -> Dockerfile.parse("RUN x\n"));
        assertThrows(IllegalArgumentException.class, () -> Dockerfile.parse("# only a comment\n"));
        assertThrows(IllegalArgumentException.class, () -> Dockerfile.parse("FROM img:${NOPE}\n"));
        assertThrows(IllegalArgumentException.class, () -> Dockerfile.parse("FROM a\n--flag\n"));
        Dockerfile shell = Dockerfile.parse("ARG V=25\nFROM base:${V} AS b\nENTRYPOINT java -jar x.jar\n");
        assertEquals("base:25", shell.runtime().image());
        var exec = assertThrows(IllegalArgumentException.class, () -> Dockerfile.execForm(shell.runtime().last("ENTRYPOINT")));
        assertTrue(message(exec).contains("exec form"), message(exec));
    }

    @Test
    void missingPomPropertiesAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> PomProperties.get("<project/>", "kafka.version"));
        assertTrue(message(e).contains("<kafka.version>"), message(e));
    }
}
