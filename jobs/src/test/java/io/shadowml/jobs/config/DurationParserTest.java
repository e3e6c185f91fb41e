package io.shadowml.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class DurationParserTest {
    @Test
    void formatsInTheLargestWholeUnitAndParsesBack() {
        assertEquals("14d", DurationParser.format(Duration.ofDays(14)));
        assertEquals("36h", DurationParser.format(Duration.ofHours(36)));
        assertEquals("1m", DurationParser.format(Duration.ofSeconds(60)));
        assertEquals("90s", DurationParser.format(Duration.ofSeconds(90)));
        assertEquals("1500ms", DurationParser.format(Duration.ofMillis(1500)));
        for (Duration d : new Duration[] {Duration.ofDays(3), Duration.ofMinutes(7), Duration.ofMillis(50)}) {
            assertEquals(d, DurationParser.parse(DurationParser.format(d)));
        }
    }
}
