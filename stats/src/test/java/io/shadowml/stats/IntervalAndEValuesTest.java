package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IntervalAndEValuesTest {

    @Test
    void intersectionKeepsWhatBothAllow() {
        Interval a = new Interval(-1, 2);
        assertEquals(new Interval(0, 2), a.intersect(new Interval(0, 5)));
        assertEquals(a, Interval.ALL.intersect(a));
        // Disjoint: the newer interval wins.
        assertEquals(new Interval(3, 4), a.intersect(new Interval(3, 4)));
        assertTrue(new Interval(0.1, 0.2).above(0));
        assertTrue(new Interval(-0.2, -0.1).below(0));
        assertFalse(new Interval(-0.2, 0.1).below(0));
        assertEquals(Interval.ALL, Interval.around(1, Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> new Interval(2, 1));
    }

    @Test
    void alwaysValidPValueIsOneOverTheLargestEValue() {
        assertEquals(1.0, EValues.alwaysValidPValue(-3));
        assertEquals(0.05, EValues.alwaysValidPValue(Math.log(20)), 1e-15);
        assertTrue(EValues.rejects(Math.log(20), 0.05));
        assertFalse(EValues.rejects(Math.log(19.9), 0.05));
        assertEquals(0.0125, EValues.bonferroni(0.05, 4));
    }
}
