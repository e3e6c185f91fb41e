package io.shadowml.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The generated command line: help from the declarations, typed values, exit code 2 without stack traces. */
class ShadowmlToolTest {
    @TempDir
    Path tmp;

    private record Run(int code, String err) {}

    private static Run run(String... argv) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int code = ShadowmlTool.run(argv, new PrintStream(b, true, StandardCharsets.UTF_8));
        return new Run(code, b.toString(StandardCharsets.UTF_8));
    }

    private static void assertUsageError(Run r, String... expected) {
        assertEquals(2, r.code(), r.err());
        for (String e : expected) {
            assertTrue(r.err().contains(e), "'" + e + "' in:\n" + r.err());
        }
        assertTrue(r.err().contains("Usage: shadowml-tool"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void badNumbersAreUsageErrorsNamingTheOption() throws Exception {
        Path csv = tmp.resolve("h.csv");
        Files.writeString(csv, "request_id,event_time,a\nr1,1,2\n");
        assertUsageError(
                run(
                        "replay",
                        "--bootstrap",
                        "127.0.0.1:1",
                        "--requests-topic",
                        "t",
                        "--input",
                        csv.toString(),
                        "--feature-columns",
                        "a",
                        "--rate",
                        "fast"),
                "replay: ",
                "--rate",
                "'fast'");
        assertUsageError(
                run(
                        "replay",
                        "--bootstrap",
                        "127.0.0.1:1",
                        "--requests-topic",
                        "t",
                        "--input",
                        csv.toString(),
                        "--feature-columns",
                        "a",
                        "--speed",
                        "-3"),
                "option --speed must be a positive number");
        assertUsageError(
                run(
                        "backtest",
                        "--config",
                        csv.toString(),
                        "--requests",
                        csv.toString(),
                        "--out",
                        tmp.resolve("out").toString(),
                        "--parallelism",
                        "two"),
                "backtest: ",
                "--parallelism",
                "'two'");
        assertUsageError(
                run(
                        "backtest",
                        "--config",
                        csv.toString(),
                        "--requests",
                        csv.toString(),
                        "--out",
                        tmp.resolve("out").toString(),
                        "--feature-columns",
                        "a",
                        "--seed",
                        "1e3"),
                "--seed",
                "'1e3'");
        assertUsageError(
                run(
                        "replay",
                        "--bootstrap",
                        "127.0.0.1:1",
                        "--requests-topic",
                        "t",
                        "--input",
                        csv.toString(),
                        "--feature-columns",
                        "a",
                        "--label-column",
                        "a",
                        "--label-delay",
                        "soon"),
                "--label-delay",
                "'soon'",
                "fixed:7d");
    }

    @Test
    void helpIsGeneratedAndListsEveryOption() {
        Run top = run("--help");
        assertEquals(0, top.code(), top.err());
        assertTrue(top.err().contains("Usage: shadowml-tool"), top.err());
        CommandLine tool = new CommandLine(new ShadowmlTool());
        assertEquals(
                List.of("replay", "backtest", "verdict", "models"),
                List.copyOf(tool.getSubcommands().keySet()));
        for (Map.Entry<String, CommandLine> sub : tool.getSubcommands().entrySet()) {
            assertTrue(top.err().contains(sub.getKey()), sub.getKey() + " in:\n" + top.err());
            Run help = run(sub.getKey(), "--help");
            assertEquals(0, help.code(), help.err());
            assertTrue(help.err().contains("Usage: shadowml-tool " + sub.getKey()), help.err());
            if (sub.getValue().getSubcommands().isEmpty()) {
                assertOptionsListed(sub.getValue(), help, 10, sub.getKey());
            }
            // A command of commands (models add|retire|switch-live): each of its commands lists its own options.
            for (Map.Entry<String, CommandLine> leaf :
                    sub.getValue().getSubcommands().entrySet()) {
                assertTrue(help.err().contains(leaf.getKey()), leaf.getKey() + " in:\n" + help.err());
                Run leafHelp = run(sub.getKey(), leaf.getKey(), "--help");
                assertEquals(0, leafHelp.code(), leafHelp.err());
                String name = sub.getKey() + " " + leaf.getKey();
                assertTrue(leafHelp.err().contains("Usage: shadowml-tool " + name), leafHelp.err());
                assertOptionsListed(leaf.getValue(), leafHelp, 5, name);
            }
        }
        // The column mapping is declared once and listed by both commands.
        for (String shared : List.of("--feature-columns", "--label-delay", "--seed")) {
            assertTrue(run("backtest", "--help").err().contains(shared));
            assertTrue(run("replay", "--help").err().contains(shared));
        }
    }

    private static void assertOptionsListed(CommandLine command, Run help, int atLeast, String name) {
        List<OptionSpec> options = command.getCommandSpec().options();
        assertTrue(options.size() > atLeast, name + " options: " + options.size());
        for (OptionSpec o : options) {
            for (String option : o.names()) {
                assertTrue(help.err().contains(option), option + " in " + name + " --help:\n" + help.err());
            }
            assertFalse(o.description().length == 0, o.longestName() + " has a description");
        }
    }

    @Test
    void missingOrUnknownCommandsAndOptionsAreUsageErrors() {
        assertUsageError(run(), "missing command");
        assertUsageError(run("bench"), "bench");
        assertUsageError(run("models"), "models: missing command: one of [add, retire, switch-live]");
        assertUsageError(
                run("models", "retire", "--config", "c.yaml", "--model", "m:1", "--bogus"),
                "models retire: unknown option --bogus");
        assertUsageError(run("replay", "--bootstrap", "x:1"), "--requests-topic", "--input");
        assertUsageError(
                run("backtest", "--config", "c.yaml", "--requests", "r.csv", "--out", "o", "--bogus"),
                "backtest: unknown option --bogus");
        // A misspelt option is reported before the required ones it leaves missing.
        assertUsageError(run("backtest", "--events", "x"), "backtest: unknown option --events");
    }

    @Test
    void producerPropertiesAreAKeyValueMap() {
        CommandLine tool = new CommandLine(new ShadowmlTool());
        CommandLine.ParseResult parsed = tool.parseArgs(
                "replay",
                "--bootstrap",
                "x:1",
                "--requests-topic",
                "t",
                "--input",
                "in.csv",
                "--producer-property",
                "compression.type=lz4",
                "--producer-property",
                "sasl.jaas.config=a=b c=d",
                "--producer-property",
                "linger.ms=0");
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("compression.type", "lz4");
        expected.put("sasl.jaas.config", "a=b c=d");
        expected.put("linger.ms", "0");
        assertEquals(expected, parsed.subcommand().matchedOptionValue("--producer-property", Map.of()));

        assertUsageError(
                run(
                        "replay",
                        "--bootstrap",
                        "x:1",
                        "--requests-topic",
                        "t",
                        "--input",
                        "in.csv",
                        "--producer-property",
                        "compression.type"),
                "--producer-property",
                "compression.type");
    }
}
