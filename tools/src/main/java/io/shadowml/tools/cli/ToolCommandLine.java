package io.shadowml.tools.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

import io.shadowml.jobs.config.ConfigException;
import io.shadowml.jobs.config.DurationParser;

/**
 * The picocli command line of a tool, set up the same way for every command: help and messages on one
 * stream (stderr: stdout may carry data), and the exit codes tools/README.md documents — 0 done, 1 failed
 * while running, 2 usage or configuration error — with a message and the usage instead of a stack trace.
 * Duration options read the text the job config reads ({@link DurationParser}: 50ms, 30s, 5m, 1h, 14d, PT1H).
 */
public final class ToolCommandLine {
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    /** Marks a command whose failures are worth a stack trace (a job failure's cause is deep inside it). */
    public interface StackTraceOnFailure {}

    private ToolCommandLine() {}

    public static CommandLine of(Object command, PrintStream err) {
        PrintWriter w = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        return new CommandLine(command)
                .setOut(w)
                .setErr(w)
                .setUsageHelpWidth(110)
                .registerConverter(Duration.class, ToolCommandLine::duration)
                .setParameterExceptionHandler(ToolCommandLine::usageError)
                .setExecutionExceptionHandler(ToolCommandLine::failure);
    }

    private static Duration duration(String text) {
        try {
            return DurationParser.parse(text);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(name(cl) + ": " + message(e));
        UnmatchedArgumentException.printSuggestions(e, err);
        cl.usage(err);
        err.flush();
        return USAGE;
    }

    /**
     * picocli's message, except for unknown options: "unknown option --x", as the tools always said, and
     * before missing required options (picocli checks those first; a misspelt option is the likelier cause).
     */
    static String message(ParameterException e) {
        List<String> unmatched = e instanceof UnmatchedArgumentException u
                ? u.getUnmatched()
                : e.getCommandLine().getUnmatchedArguments();
        if (!unmatched.isEmpty()) {
            String first = unmatched.get(0);
            if (first.startsWith("-")) {
                int eq = first.indexOf('=');
                return "unknown option " + (eq > 0 ? first.substring(0, eq) : first);
            }
            return "unexpected argument '" + first + "'";
        }
        return e.getMessage();
    }

    /**
     * The command as typed after the tool's name: {@code replay}, or {@code models add} for a subcommand of
     * a subcommand (its own name alone, {@code add}, would not say which).
     */
    static String name(CommandLine cl) {
        CommandLine root = cl;
        while (root.getParent() != null) {
            root = root.getParent();
        }
        String qualified = cl.getCommandSpec().qualifiedName(" ");
        String prefix = root.getCommandName() + " ";
        return root != cl && qualified.startsWith(prefix) ? qualified.substring(prefix.length()) : cl.getCommandName();
    }

    private static int failure(Exception e, CommandLine cl, ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (e instanceof UsageException || e instanceof ConfigException) {
            err.println(name(cl) + ": " + e.getMessage());
            if (e instanceof UsageException) {
                cl.usage(err);
            }
            err.flush();
            return USAGE;
        }
        err.println(name(cl) + " failed: " + e);
        if (cl.getCommand() instanceof StackTraceOnFailure) {
            e.printStackTrace(err);
        }
        err.flush();
        return FAILED;
    }
}
