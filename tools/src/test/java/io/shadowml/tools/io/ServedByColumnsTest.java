package io.shadowml.tools.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

import io.shadowml.tools.cli.ColumnOptions;
import io.shadowml.tools.cli.UsageException;

/**
 * The optional CSV columns for Request.served_by (the variant production served, what the job's canary
 * analysis splits by) and Request.production_score, mapped like the other optional columns: an empty cell
 * leaves the field unset, an unparseable score makes a bad row, a mapped column missing from the header
 * is a usage error naming the option, and an unmapped column is ignored.
 */
class ServedByColumnsTest {
    @TempDir
    Path tmp;

    private static final String CSV = String.join(
            "\n",
            "request_id,event_time,a,served_by,production_score,label,delay",
            "r1,1000,1.5,canary,0.25,1,10", // line 2: both set
            "r2,2000,2.5,prod,,0,10", // line 3: no production score logged
            "r3,3000,3.5,,0.75,,", // line 4: served_by empty, never labelled
            "r4,4000,4.5,prod,high,1,10", // line 5: bad score
            "r5,5000,5.5,\"canary\",\" 1e-3 \",0,10", // line 6: quoted cells, the score trimmed
            "");

    private static RowSpec spec(String servedBy, String productionScore) {
        return new RowSpec(
                "request_id",
                "event_time",
                null,
                List.of(),
                List.of("a"),
                null,
                servedBy,
                productionScore,
                "label",
                null,
                "delay",
                null,
                0);
    }

    private List<HistoryRecord> read(RowSpec spec) throws Exception {
        Path csv = tmp.resolve("history.csv");
        Files.writeString(csv, CSV);
        List<HistoryRecord> out = new ArrayList<>();
        try (CsvHistoryReader r = new CsvHistoryReader(csv, spec)) {
            while (r.hasNext()) {
                out.add(r.next());
            }
        }
        return out;
    }

    @Test
    void servedByAndProductionScoreAreSetFromTheirColumns() throws Exception {
        List<HistoryRecord> rows = read(spec("served_by", "production_score"));
        assertEquals(5, rows.size());

        HistoryRecord r1 = rows.get(0);
        assertFalse(r1.isBad());
        assertEquals("canary", r1.request.getServedBy());
        assertEquals(0.25, r1.request.getProductionScore());
        assertEquals(1.0, r1.label.getValue());

        HistoryRecord r2 = rows.get(1);
        assertEquals("prod", r2.request.getServedBy());
        assertNull(r2.request.getProductionScore(), "an empty cell = not logged");

        HistoryRecord r3 = rows.get(2);
        assertNull(r3.request.getServedBy(), "an empty cell = not set");
        assertEquals(0.75, r3.request.getProductionScore());
        assertNull(r3.label);

        HistoryRecord r4 = rows.get(3);
        assertTrue(r4.isBad());
        assertEquals(Problem.BAD_NUMBER, r4.problem);
        assertEquals(5, r4.position);
        assertEquals("line 5: unparseable number: column 'production_score': 'high'", r4.reason());
        assertEquals(4000, r4.timestamp);

        HistoryRecord r5 = rows.get(4);
        assertEquals("canary", r5.request.getServedBy());
        assertEquals(1e-3, r5.request.getProductionScore());
    }

    @Test
    void unmappedColumnsAreIgnored() throws Exception {
        List<HistoryRecord> rows = read(spec(null, null));
        assertEquals(5, rows.size());
        for (HistoryRecord r : rows) {
            assertFalse(r.isBad(), "the score column is not read unless mapped: " + r.message);
            assertNull(r.request.getServedBy());
            assertNull(r.request.getProductionScore());
        }
        // The pre-existing constructor maps neither.
        RowSpec old = new RowSpec(
                "request_id", "event_time", null, List.of(), List.of("a"), null, "label", null, "delay", null, 0);
        assertNull(old.servedByColumn);
        assertNull(old.productionScoreColumn);
    }

    @Test
    void aMappedColumnMissingFromTheHeaderNamesTheOption() throws Exception {
        UsageException e = assertThrows(UsageException.class, () -> read(spec("variant", null)));
        assertTrue(e.getMessage().contains("no column 'variant' (option --served-by-column)"), e.getMessage());
        e = assertThrows(UsageException.class, () -> read(spec(null, "score")));
        assertTrue(e.getMessage().contains("no column 'score' (option --production-score-column)"), e.getMessage());
    }

    @Test
    void commandLineOptions() {
        ColumnOptions none = new ColumnOptions();
        new CommandLine(none).parseArgs();
        assertFalse(none.anyGiven());

        ColumnOptions servedBy = new ColumnOptions();
        new CommandLine(servedBy).parseArgs("--served-by-column", "served_by");
        assertTrue(servedBy.anyGiven(), "refused for Avro input like every column option");
        ColumnOptions score = new ColumnOptions();
        new CommandLine(score).parseArgs("--production-score-column=production_score");
        assertTrue(score.anyGiven());

        ColumnOptions both = new ColumnOptions();
        new CommandLine(both)
                .parseArgs(
                        "--feature-columns",
                        "a",
                        "--served-by-column",
                        "served_by",
                        "--production-score-column",
                        "production_score");
        RowSpec spec = both.toRowSpec();
        assertEquals("served_by", spec.servedByColumn);
        assertEquals("production_score", spec.productionScoreColumn);
        assertEquals(List.of("a"), spec.featureColumns);
        assertNull(both.toRowSpec().labelColumn);
    }
}
