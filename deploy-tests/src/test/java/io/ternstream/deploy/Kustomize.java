package io.ternstream.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders a kustomization the way `kustomize build` does, for the subset of kustomize our k8s/ tree
 * uses: resources (files and directories), namespace, images and inline JSON6902 patches with a
 * kind/name target. Any other field fails the render, so the tree cannot drift into features that are
 * not checked here. (`kubectl kustomize` renders the same output; docs/DEPLOY.md.)
 */
final class Kustomize {

    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "resources", "namespace", "images", "patches");
    /** Kinds with no namespace: the namespace transformer leaves them alone. */
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding",
            "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass");

    private Kustomize() {
    }

    /** Renders the kustomization in {@code dir}; returns resources in input order. */
    static List<ObjectNode> build(Path dir) {
        Path file = dir.resolve("kustomization.yaml");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(dir + " has no kustomization.yaml");
        }
        List<JsonNode> docs = Yaml.readAll(file);
        if (docs.size() != 1 || !docs.getFirst().isObject()) {
            throw new IllegalArgumentException(file + " must hold exactly one YAML mapping");
        }
        JsonNode k = docs.getFirst();
        for (var it = k.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!SUPPORTED.contains(field)) {
                throw new IllegalArgumentException(file + " uses '" + field + "', which this checker does not render");
            }
        }
        if (!"Kustomization".equals(k.path("kind").asText())) {
            throw new IllegalArgumentException(file + ": kind must be Kustomization");
        }

        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode entry : k.path("resources")) {
            Path target = dir.resolve(entry.asText()).normalize();
            if (Files.isDirectory(target)) {
                out.addAll(build(target));
            } else if (Files.isRegularFile(target)) {
                for (JsonNode doc : Yaml.readAll(target)) {
                    if (!doc.isObject() || !doc.has("kind") || !doc.has("apiVersion")) {
                        throw new IllegalArgumentException(target + ": a document without apiVersion/kind");
                    }
                    out.add((ObjectNode) doc);
                }
            } else {
                throw new IllegalArgumentException(file + " lists resource '" + entry.asText() + "', which does not exist");
            }
        }
        checkUnique(out, file);
        for (JsonNode patch : k.path("patches")) {
            applyPatch(out, patch, file);
        }
        if (k.has("namespace")) {
            String ns = k.get("namespace").asText();
            for (ObjectNode r : out) {
                if (!CLUSTER_SCOPED.contains(r.get("kind").asText())) {
                    ((ObjectNode) r.with("metadata")).put("namespace", ns);
                }
            }
        }
        for (JsonNode image : k.path("images")) {
            for (ObjectNode r : out) {
                retag(r, image);
            }
        }
        return out;
    }

    static String id(JsonNode r) {
        return r.path("kind").asText() + "/" + r.path("metadata").path("name").asText();
    }

    private static void checkUnique(List<ObjectNode> resources, Path file) {
        Set<String> seen = new HashSet<>();
        for (ObjectNode r : resources) {
            String key = id(r) + "@" + r.path("metadata").path("namespace").asText();
            if (!seen.add(key)) {
                throw new IllegalArgumentException(file + ": resource " + id(r) + " appears twice");
            }
        }
    }

    private static void applyPatch(List<ObjectNode> resources, JsonNode patch, Path file) {
        for (var it = patch.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("target", "patch", "path").contains(f)) {
                throw new IllegalArgumentException(file + ": patch field '" + f + "' is not supported");
            }
        }
        JsonNode target = patch.path("target");
        for (var it = target.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("kind", "name").contains(f)) {
                throw new IllegalArgumentException(file + ": patch target field '" + f + "' is not supported");
            }
        }
        if (!target.has("kind")) {
            throw new IllegalArgumentException(file + ": every patch needs a target kind");
        }
        JsonNode ops;
        if (patch.has("patch")) {
            ops = Yaml.readOne(patch.get("patch").asText(), file + " (inline patch)");
        } else if (patch.has("path")) {
            Path p = file.getParent().resolve(patch.get("path").asText());
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException(file + " names patch file '" + patch.get("path").asText() + "', which does not exist");
            }
            ops = Yaml.readAll(p).getFirst();
        } else {
            throw new IllegalArgumentException(file + ": a patch needs 'patch' or 'path'");
        }
        if (!ops.isArray()) {
            throw new IllegalArgumentException(file + ": only JSON6902 patches (a list of operations) are supported");
        }
        String kind = target.get("kind").asText();
        String name = target.has("name") ? target.get("name").asText() : null;
        int matched = 0;
        for (ObjectNode r : resources) {
            // kustomize matches target names as anchored regular expressions
            if (r.get("kind").asText().equals(kind)
                    && (name == null || r.path("metadata").path("name").asText().matches(name))) {
                JsonPatch.apply(r, ops, file + " patch on " + id(r));
                matched++;
            }
        }
        if (matched == 0) {
            throw new IllegalArgumentException(file + ": patch target " + kind + "/" + name + " matches no resource");
        }
    }

    /** The images transformer: every container image named like the entry gets its new name/tag. */
    private static void retag(JsonNode node, JsonNode image) {
        if (node.isObject()) {
            for (String key : List.of("containers", "initContainers")) {
                if (node.get(key) instanceof ArrayNode containers) {
                    for (JsonNode c : containers) {
                        String current = c.path("image").asText();
                        if (imageName(current).equals(image.path("name").asText())) {
                            String name = image.has("newName") ? image.get("newName").asText() : imageName(current);
                            String tag = image.has("newTag") ? ":" + image.get("newTag").asText() : imageTagPart(current);
                            ((ObjectNode) c).put("image", name + tag);
                        }
                    }
                }
            }
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                retag(e.getValue(), image);
            }
        } else if (node.isArray()) {
            for (JsonNode n : node) {
                retag(n, image);
            }
        }
    }

    /** "repo/name:tag" -> "repo/name" (a registry host's port is not a tag). */
    static String imageName(String image) {
        int at = image.indexOf('@');
        String s = at >= 0 ? image.substring(0, at) : image;
        int colon = s.lastIndexOf(':');
        return colon > s.lastIndexOf('/') ? s.substring(0, colon) : s;
    }

    static String imageTag(String image) {
        String part = imageTagPart(image);
        return part.isEmpty() ? "latest" : part.substring(1);
    }

    private static String imageTagPart(String image) {
        return image.substring(imageName(image).length());
    }
}
