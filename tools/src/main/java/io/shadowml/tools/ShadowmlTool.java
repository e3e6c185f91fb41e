package io.shadowml.tools;

import java.io.PrintStream;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import io.shadowml.tools.backtest.BacktestCommand;
import io.shadowml.tools.cli.ToolCommandLine;
import io.shadowml.tools.models.ModelsCommand;
import io.shadowml.tools.replay.ReplayCommand;
import io.shadowml.tools.verdict.VerdictCommand;

/**
 * The one entry point of the tools ({@code tools/shadowml-tool.sh}): a subcommand per tool, so a new tool
 * is one more class in {@code subcommands} and shows up in the generated help.
 */
@Command(
        name = "shadowml-tool",
        sortOptions = false,
        usageHelpAutoWidth = true,
        synopsisSubcommandLabel = "COMMAND",
        description = "Tools around the shadow job. '<command> --help' prints a command's options.",
        subcommands = {ReplayCommand.class, BacktestCommand.class, VerdictCommand.class, ModelsCommand.class},
        footer = {
            "",
            "The end-to-end throughput benchmark, bench, lives in the bench module (it runs an in-process Kafka"
                    + " broker): 'tools/shadowml-tool.sh bench --help'.",
            "",
            "Exit codes: 0 done, 1 failed while running, 2 usage or configuration error. verdict, a CI/CD gate,"
                    + " has its own: 0 PROMOTE/PROCEED, 1 REJECT/ROLLBACK, 2 usage or configuration error,"
                    + " 3 CONTINUE, 4 could not read the verdicts."
        })
public final class ShadowmlTool implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    public static void main(String[] argv) {
        System.exit(run(argv, System.err));
    }

    /** Runs a tool and returns the process exit code. */
    public static int run(String[] argv, PrintStream err) {
        return commandLine(err).execute(argv);
    }

    /**
     * The command line of the tools, messages on {@code err}. A module with a tool of its own that the tools
     * must not depend on (bench) adds its subcommand to it, so that tool reads and fails like the others.
     */
    public static CommandLine commandLine(PrintStream err) {
        return ToolCommandLine.of(new ShadowmlTool(), err);
    }

    /** {@code command} followed by {@code argv}. */
    public static String[] withCommand(String command, String[] argv) {
        String[] all = new String[argv.length + 1];
        all[0] = command;
        System.arraycopy(argv, 0, all, 1, argv.length);
        return all;
    }

    /** Without a subcommand there is nothing to do: a usage error. */
    @Override
    public Integer call() {
        throw new ParameterException(
                spec.commandLine(),
                "missing command: one of " + spec.subcommands().keySet());
    }
}
