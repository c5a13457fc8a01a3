package io.ternstream.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./ternstream generate|logits|perplexity|bench}: the engine's command line. */
@Command(name = "ternstream", mixinStandardHelpOptions = true, version = "ternstream 0.1",
        description = "MatMul-free (HGRN-Bit) language model engine",
        subcommands = {GenerateCommand.class, LogitsCommand.class, PerplexityCommand.class})
public final class TernstreamCli implements Runnable {

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code: 0 ok, 1 failure, 2 bad arguments. */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new TernstreamCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("ternstream " + commandLine.getCommandName() + ": " + describe(e));
            return e instanceof IllegalArgumentException ? CommandLine.ExitCode.USAGE : CommandLine.ExitCode.SOFTWARE;
        });
        return cli.execute(args);
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message != null ? message : e.getClass().getSimpleName();
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
        throw new CommandLine.ParameterException(new CommandLine(this), "missing command");
    }
}
