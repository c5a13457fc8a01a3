package io.ternstream.service;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import io.ternstream.service.client.ClientMain;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Entry point of quarkus-run.jar: {@code serve [options]} starts the service, {@code client ...}
 * runs the terminal client without starting Quarkus. Options become configuration properties
 * before Quarkus reads its configuration.
 */
@QuarkusMain
public class TernstreamMain implements QuarkusApplication {
    private static final String USAGE = """
            Usage: ./ternstream serve [--model DIR] [--http-port N] [--kafka-port N]
                                      [--bootstrap-servers HOST:PORT] [--role engine|gateway|all]
                                      [--delivery exactly-once|at-least-once]
              --model DIR               model folder (default: models/ternstream-tiny)
              --http-port N             HTTP port for health, metrics and the gateway (default 8080)
              --kafka-port N            port of the embedded Kafka broker (default 9092)
              --bootstrap-servers H:P   use this Kafka cluster instead of an embedded broker
              --role R                  engine, gateway or all (default all)
              --delivery D              exactly-once or at-least-once (default at-least-once)
            Any -Dkey=value JVM option or TERNSTREAM_* environment variable sets other configuration.
            """;

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("client")) {
            System.exit(ClientMain.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        Map<String, String> properties;
        try {
            properties = serveOptions(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ternstream serve: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (properties == null) {
            System.out.print(USAGE);
            return;
        }
        properties.forEach(System::setProperty);
        Quarkus.run(TernstreamMain.class, new String[0]);
    }

    /** The configuration properties the serve options stand for; null for --help. */
    static Map<String, String> serveOptions(String... args) {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        if (!rest.isEmpty() && rest.getFirst().equals("serve")) {
            rest.removeFirst();
        }
        Map<String, String> properties = new LinkedHashMap<>();
        for (int i = 0; i < rest.size(); i++) {
            String option = rest.get(i);
            if (option.equals("--help") || option.equals("-h")) {
                return null;
            }
            String property = switch (option) {
                case "--model" -> "ternstream.model.dir";
                case "--http-port" -> "quarkus.http.port";
                case "--kafka-port" -> "ternstream.kafka.embedded.port";
                case "--bootstrap-servers" -> "ternstream.kafka.bootstrap-servers";
                case "--role" -> "ternstream.role";
                case "--delivery" -> "ternstream.delivery";
                default -> throw new IllegalArgumentException("unknown option " + option);
            };
            if (i + 1 >= rest.size()) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            String value = rest.get(++i);
            if ((option.endsWith("-port") && !value.matches("\\d{1,5}"))
                    || (option.equals("--role") && !value.matches("engine|gateway|all"))
                    || (option.equals("--delivery") && !value.matches("exactly-once|at-least-once"))) {
                throw new IllegalArgumentException(option + ": invalid value '" + value + "'");
            }
            properties.put(property, value);
        }
        return properties;
    }

    @Override
    public int run(String... args) {
        Quarkus.waitForExit();
        return 0;
    }
}
