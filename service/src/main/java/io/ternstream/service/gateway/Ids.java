package io.ternstream.service.gateway;

import java.util.UUID;
import java.util.regex.Pattern;

/** Session and request ids as the contracts allow them (common.schema.json). */
final class Ids {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");

    private Ids() {}

    static boolean valid(String id) {
        return id != null && ID.matcher(id).matches();
    }

    static String random(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "");
    }
}
