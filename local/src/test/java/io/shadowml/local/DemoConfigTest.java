package io.shadowml.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.shadowml.embedded.scenario.ScenarioData;

/** The job config the demo writes: a canary section only with --canary. */
class DemoConfigTest {
    static final Path ROOT = ScenarioData.repoRoot();

    @TempDir
    Path dir;

    private String config(String[] args, String canaryModel) throws IOException {
        DemoOptions o = DemoOptions.parse(args);
        Path file = LocalDemo.writeConfig(dir, ROOT, o, "demo-" + o.scenario, "127.0.0.1:9092", 26_000.0, canaryModel);
        return Files.readString(file);
    }

    @Test
    void fraudCanaryWithItsBusinessMetric() throws IOException {
        String plain = config(new String[0], null);
        assertFalse(plain.contains("canary"), plain);
        String yaml = config(new String[] {"--canary", "10"}, "fraud-mlp:2.0.0");
        String section = String.join(
                "\n",
                "canary:",
                "  arms:",
                "    prod: live",
                "    canary: fraud-mlp:2.0.0",
                "  expected_split:",
                "    prod: 90",
                "    canary: 10",
                "  srm_unit: entity",
                "  business_metric:",
                "    name: fraud_loss",
                "    feature: amount",
                "    when: missed_positive");
        assertTrue(yaml.contains("\n" + section + "\n"), yaml);
        // Nothing else changes.
        assertEquals(plain, yaml.replace(section, ""));

        JsonNode canary = new ObjectMapper(new YAMLFactory()).readTree(yaml).get("canary");
        assertEquals("fraud-mlp:2.0.0", canary.get("arms").get("canary").asText());
        assertEquals("live", canary.get("arms").get("prod").asText());
        assertEquals(90, canary.get("expected_split").get("prod").asInt());
        assertEquals(10, canary.get("expected_split").get("canary").asInt());
        assertEquals("amount", canary.get("business_metric").get("feature").asText());
        assertTrue(ScenarioData.FRAUD_FEATURES.contains("amount"));
    }

    @Test
    void fashionHasNoAmountSoNoBusinessMetric() throws IOException {
        String yaml = config(new String[] {"--scenario", "fashion", "--canary", "2.5"}, "fashion-mlp:2.0.0");
        assertTrue(
                yaml.contains("\ncanary:\n  arms:\n    prod: live\n    canary: fashion-mlp:2.0.0\n"
                        + "  expected_split:\n    prod: 97.5\n    canary: 2.5\n"),
                yaml);
        assertFalse(yaml.contains("business_metric"), yaml);
        assertFalse(yaml.contains("srm_unit"), "assigned by request: the default unit");
    }
}
