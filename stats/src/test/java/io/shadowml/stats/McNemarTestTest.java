package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class McNemarTestTest {

    /**
     * The worked example of Fagerland, Lydersen and Laake, BMC Medical Research Methodology 13:91
     * (2013), Table 1: airway hyper-responsiveness before and after stem cell transplantation in 21
     * children (Bentur et al. 2009), discordant pairs b = 1, c = 7. Published: exact conditional
     * p = 0.070, asymptotic McNemar p = 0.034. By hand: P[X ≤ 1] for X ~ Bin(8, ½) is
     * (C(8,0) + C(8,1)) / 2⁸ = 9/256, so p = 2·9/256 = 0.0703125; (1 − 7)²/8 = 4.5 and
     * P[χ²₁ &gt; 4.5] = erfc(√2.25) = erfc(1.5) = 0.033895 (table of erfc). With Edwards' correction
     * (6 − 1)²/8 = 3.125 and erfc(√1.5625) = erfc(1.25) = 0.077100.
     */
    @Test
    void fagerlandLydersenLaakeExample() {
        assertEquals(18.0 / 256, McNemarTest.exactPValue(1, 7), 1e-15);
        assertEquals(0.070, McNemarTest.exactPValue(1, 7), 5e-4);
        assertEquals(0.034, McNemarTest.asymptoticPValue(1, 7), 5e-4);
        assertEquals(0.033895, McNemarTest.asymptoticPValue(1, 7), 1e-6);
        assertEquals(0.077100, McNemarTest.continuityCorrectedPValue(1, 7), 1e-6);
        // 8 discordant pairs: the combined rule uses the exact test.
        assertEquals(18.0 / 256, McNemarTest.pValue(1, 7), 1e-15);
    }

    /**
     * The authors' own implementation: R package contingencytables (Fagerland, Lydersen and Laake,
     * companion to "Statistical Analysis of Contingency Tables", Chapman &amp; Hall/CRC 2017), its
     * test suite tests/testthat/test-ch8.R on the data set cavo_2012 = [[59, 6], [16, 80]] (complete
     * response before and after consolidation therapy, Cavo et al. 2012), b = 6, c = 16:
     * "The McNemar exact conditional test: P = 0.052479", "The McNemar asymptotic test:
     * P = 0.033006, Z = -2.132", "McNemar test with continuity correction: P = 0.055009, Z = 1.919".
     * Exact by hand: Σ_{k≤6} C(22, k) = 1 + 22 + 231 + 1540 + 7315 + 26334 + 74613 = 110056, and
     * 2·110056 / 2²² = 0.0524788.
     */
    @Test
    void contingencyTablesPackageValues() {
        assertEquals(2.0 * 110_056 / (1 << 22), McNemarTest.exactPValue(6, 16), 1e-15);
        assertEquals(0.052479, McNemarTest.exactPValue(6, 16), 5e-7);
        assertEquals(0.033006, McNemarTest.asymptoticPValue(6, 16), 5e-7);
        assertEquals(0.055009, McNemarTest.continuityCorrectedPValue(6, 16), 5e-7);
        // the tests are two-sided: the order of b and c does not matter
        assertEquals(McNemarTest.exactPValue(6, 16), McNemarTest.exactPValue(16, 6), 0.0);
        assertEquals(McNemarTest.asymptoticPValue(6, 16), McNemarTest.asymptoticPValue(16, 6), 0.0);
    }

    @Test
    void combinedRuleSwitchesToTheCorrectedChiSquareAtTwentyFiveDiscordantPairs() {
        assertEquals(1.0, McNemarTest.pValue(0, 0));
        for (int b = 0; b <= 40; b++) {
            for (int c = 0; c <= 40; c++) {
                if (b + c == 0) {
                    continue;
                }
                double expected = b + c < McNemarTest.EXACT_BELOW
                        ? McNemarTest.exactPValue(b, c)
                        : McNemarTest.continuityCorrectedPValue(b, c);
                assertEquals(expected, McNemarTest.pValue(b, c), 0.0, "b=" + b + " c=" + c);
            }
        }
        // b = c: no evidence either way
        assertEquals(1.0, McNemarTest.exactPValue(4, 4));
        assertEquals(1.0, McNemarTest.asymptoticPValue(30, 30));
        assertEquals(1.0, McNemarTest.continuityCorrectedPValue(30, 30));
        assertEquals(1.0, McNemarTest.continuityCorrectedPValue(30, 31));
        assertThrows(IllegalArgumentException.class, () -> McNemarTest.pValue(-1, 3));
        assertThrows(IllegalArgumentException.class, () -> McNemarTest.pValue(Long.MAX_VALUE, 1));
    }

    /**
     * A very lopsided table keeps a positive p-value (1 − CDF would round to 0):
     * 499²/500 = 498.002, P[χ²₁ &gt; 498.002] = erfc(√249.001) = 2.5864e-110 (Python math.erfc).
     */
    @Test
    void tinyPValuesDoNotUnderflowToZero() {
        double p = McNemarTest.continuityCorrectedPValue(500, 0);
        assertTrue(p > 0);
        assertEquals(2.586404760578672e-110, p, 2.6e-119);
    }
}
