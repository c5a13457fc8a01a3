package io.ternstream.engine.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

/** Runs the CLI in-process with stdout and stderr captured (tests of every command share it). */
public final class CliRun {

    public record Captured(int code, String out, String err) {}

    private CliRun() {}

    /** Synchronized: System.out and System.err are global. */
    public static synchronized Captured run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        try {
            return new Captured(TernstreamCli.execute(args), out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
