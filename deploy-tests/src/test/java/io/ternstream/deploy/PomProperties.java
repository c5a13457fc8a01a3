package io.ternstream.deploy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Properties of the root pom.xml (versions, JVM flags) that deployment files must repeat exactly. */
final class PomProperties {

    private PomProperties() {
    }

    static String get(String name) {
        return get(RepoFiles.read("pom.xml"), name);
    }

    static String get(String pom, String name) {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]*)</" + Pattern.quote(name) + ">").matcher(pom);
        if (!m.find()) {
            throw new IllegalArgumentException("pom.xml has no <" + name + ">");
        }
        return m.group(1).trim();
    }

    static String projectVersion() {
        String pom = RepoFiles.read("pom.xml");
        // the project's own <version>, after </parent> if any, before <packaging>
        Matcher m = Pattern.compile("<artifactId>ternstream-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        if (!m.find()) {
            throw new IllegalArgumentException("pom.xml has no ternstream-parent version");
        }
        return m.group(1).trim();
    }
}
