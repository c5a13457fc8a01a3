package io.ternstream.deploy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** One rendered kustomization: the raw trees and their fabric8 objects, with finders by kind and name. */
record Rendered(String name, List<ObjectNode> trees, List<HasMetadata> resources) {

    static Rendered of(String kustomizationDir) {
        List<ObjectNode> trees = Kustomize.build(RepoFiles.resolve(kustomizationDir));
        return new Rendered(kustomizationDir, trees, trees.stream().map(KubeModel::parse).toList());
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type, String name) {
        return resources.stream().filter(type::isInstance).map(type::cast)
                .filter(r -> r.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(this.name + " has no " + type.getSimpleName() + " " + name));
    }

    List<GenericKubernetesResource> custom(String kind) {
        return all(GenericKubernetesResource.class).stream().filter(r -> r.getKind().equals(kind)).toList();
    }

    GenericKubernetesResource custom(String kind, Predicate<GenericKubernetesResource> which, String what) {
        return custom(kind).stream().filter(which).findFirst()
                .orElseThrow(() -> new AssertionError(name + " has no " + kind + " " + what));
    }

    /** The shared ConfigMap's data: environment of both workloads. */
    Map<String, String> config() {
        List<ConfigMap> maps = all(ConfigMap.class);
        if (maps.size() != 1) {
            throw new AssertionError(name + " should have exactly one ConfigMap, has " + maps.size());
        }
        return maps.getFirst().getData();
    }

    /** A value inside a custom resource, by a path of field names and list indexes. */
    static Object at(GenericKubernetesResource r, Object... path) {
        Object node = r.getAdditionalProperties();
        for (Object step : path) {
            if (node instanceof Map<?, ?> map && step instanceof String key) {
                node = map.get(key);
            } else if (node instanceof List<?> list && step instanceof Integer i && i < list.size()) {
                node = list.get(i);
            } else {
                node = null;
            }
            if (node == null) {
                throw new AssertionError(id(r) + " has no " + java.util.Arrays.toString(path));
            }
        }
        return node;
    }

    /** "Kind/name", as in error messages. */
    static String id(HasMetadata r) {
        return r.getKind() + "/" + r.getMetadata().getName();
    }
}
