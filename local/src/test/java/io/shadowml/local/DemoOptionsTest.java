package io.shadowml.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/** The demo's options: defaults, typed values, the checks, and help generated from the declarations. */
class DemoOptionsTest {
    @Test
    void defaults() {
        DemoOptions o = DemoOptions.parse(new String[0]);
        assertEquals("fraud", o.scenario);
        assertEquals(6000, o.events);
        assertEquals(Duration.ofSeconds(45), o.duration);
        assertTrue(Double.isNaN(o.rate));
        assertFalse(o.drift || o.follow || o.help);
        assertEquals(8081, o.uiPort);
        assertEquals(8090, o.dashboardPort);
        assertEquals(Duration.ZERO, o.linger);
        assertNull(o.canary, "no canary unless asked for");
    }

    @Test
    void everyOption() {
        DemoOptions o = DemoOptions.parse(new String[] {
            "--scenario",
            "fraud",
            "--events",
            "1500",
            "--duration",
            "15s",
            "--rate",
            "250.5",
            "--drift",
            "--follow",
            "--ui-port",
            "18081",
            "--dashboard-port=0",
            "--linger",
            "5m",
            "--canary",
            "10"
        });
        assertEquals(1500, o.events);
        assertEquals(Duration.ofSeconds(15), o.duration);
        assertEquals(250.5, o.rate);
        assertTrue(o.drift && o.follow);
        assertEquals(18081, o.uiPort);
        assertEquals(0, o.dashboardPort);
        assertEquals(Duration.ofMinutes(5), o.linger);
        assertEquals(10.0, o.canary);
        assertEquals(2.5, DemoOptions.parse(new String[] {"--canary=2.5", "--scenario", "fashion"}).canary);
        assertEquals(Duration.ofHours(1), DemoOptions.parse(new String[] {"--duration", "PT1H"}).duration);
        assertTrue(DemoOptions.parse(new String[] {"-h"}).help);
        assertTrue(DemoOptions.parse(new String[] {"--help"}).help);
    }

    @Test
    void badValuesNameTheOption() {
        assertMessage("--events", "--events", "many");
        assertMessage("--rate", "--rate", "fast");
        assertMessage("--duration", "--duration", "soon");
        assertMessage("--ui-port", "--ui-port", "80a");
        assertMessage("--bogus", "--bogus");
        assertMessage("--events", "--events");
        assertMessage("--scenario must be fraud or fashion, was 'cats'", "--scenario", "cats");
        assertMessage("--drift is available for the fraud scenario only", "--scenario", "fashion", "--drift");
        assertMessage("--events and --rate must be positive", "--events", "0");
        assertMessage("--events and --rate must be positive", "--rate", "-1");
        assertMessage("--dashboard-port must be 0..65535, was 70000", "--dashboard-port", "70000");
        assertMessage("--linger must not be negative", "--linger", "-PT1S");
        assertMessage("--format must be avro or json, was 'xml'", "--format", "xml");
        assertMessage(
                "--canary is the canary's percentage of the traffic, 0 < PERCENT < 100; was 0.0", "--canary", "0");
        assertMessage("0 < PERCENT < 100; was 100.0", "--canary", "100");
        assertMessage("0 < PERCENT < 100; was -5.0", "--canary=-5");
        assertMessage("--canary", "--canary", "ten");
    }

    @Test
    void helpListsEveryOption() {
        DemoOptions o = new DemoOptions();
        String help = DemoOptions.commandLine(o).getUsageMessage();
        assertTrue(help.contains("Usage: demo.sh"), help);
        List<OptionSpec> options = DemoOptions.commandLine(o).getCommandSpec().options();
        assertEquals(12, options.size());
        for (OptionSpec opt : options) {
            for (String name : opt.names()) {
                assertTrue(help.contains(name), name + " in:\n" + help);
            }
        }
    }

    private static void assertMessage(String expected, String... args) {
        ParameterException e = assertThrows(ParameterException.class, () -> DemoOptions.parse(args));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
