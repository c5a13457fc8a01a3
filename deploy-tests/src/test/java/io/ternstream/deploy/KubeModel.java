package io.ternstream.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Parses manifests with the fabric8 Kubernetes model, strictly: fabric8 keeps fields it does not know
 * (a typo such as "livenesProbe", a value of the wrong type) in additionalProperties instead of failing,
 * so after parsing every model object is walked and any such leftover is reported with its path.
 */
final class KubeModel {

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private KubeModel() {
    }

    /** The typed fabric8 object of a manifest (GenericKubernetesResource for custom resources). */
    static HasMetadata parse(JsonNode manifest) {
        String json = manifest.toString();
        Object parsed;
        try {
            parsed = SERIALIZATION.unmarshal(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(Kustomize.id(manifest) + " does not parse with the Kubernetes model: "
                    + e.getMessage(), e);
        }
        if (!(parsed instanceof HasMetadata resource)) {
            throw new IllegalArgumentException(Kustomize.id(manifest) + " parsed as " + parsed.getClass().getName());
        }
        if (isBuiltInGroup(resource.getApiVersion()) && resource instanceof GenericKubernetesResource) {
            throw new IllegalArgumentException(Kustomize.id(manifest) + ": apiVersion " + resource.getApiVersion()
                    + " has no kind " + resource.getKind());
        }
        List<String> unknown = unknownFields(resource);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(Kustomize.id(manifest) + " has fields the Kubernetes API does not know: " + unknown);
        }
        return resource;
    }

    /**
     * Kubernetes' own API groups (core "v1", "apps/v1", "*.k8s.io/..."): fabric8 has a type for every
     * kind in them, so a generic result means the apiVersion/kind pair does not exist.
     */
    static boolean isBuiltInGroup(String apiVersion) {
        int slash = apiVersion.indexOf('/');
        if (slash < 0) {
            return true;
        }
        String group = apiVersion.substring(0, slash);
        return !group.contains(".") || group.endsWith(".k8s.io");
    }

    /** Paths of every field fabric8 did not map onto its model, for typed resources. */
    static List<String> unknownFields(Object root) {
        List<String> found = new ArrayList<>();
        if (!(root instanceof GenericKubernetesResource)) {
            walk(root, "", found);
        }
        return found;
    }

    private static void walk(Object node, String path, List<String> found) {
        if (node == null) {
            return;
        }
        if (node instanceof Collection<?> list) {
            int i = 0;
            for (Object item : list) {
                walk(item, path + "[" + i++ + "]", found);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getValue(), path + "." + e.getKey(), found);
            }
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method m : node.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
                    || m.getName().equals("getClass")) {
                continue;
            }
            Object value = invoke(m, node);
            String field = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            if (m.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    for (Object key : extra.keySet()) {
                        found.add((path.isEmpty() ? "" : path.substring(1) + ".") + key);
                    }
                }
            } else {
                walk(value, path + "." + field, found);
            }
        }
    }

    private static Object invoke(Method m, Object target) {
        try {
            return m.invoke(target);
        } catch (IllegalAccessException | InvocationTargetException e) {
            return null; // derived getters (e.g. Quantity's numerical amount) are not fields
        }
    }
}
