package io.shadowml.tools.cli;

import java.util.List;

import picocli.CommandLine.Option;

import io.shadowml.tools.io.DelayDistribution;
import io.shadowml.tools.io.RowSpec;

/**
 * The CSV column-mapping options, one declaration shared by replay and backtest (a picocli mixin). Every
 * field stays null unless given, so {@link #anyGiven} can refuse them for Avro input; the defaults are
 * applied in {@link #toRowSpec}.
 */
public final class ColumnOptions {
    @Option(names = "--id-column", paramLabel = "C", description = "request id column (default request_id)")
    String idColumn;

    @Option(
            names = "--time-column",
            paramLabel = "C",
            description = "event time column: epoch ms or ISO-8601 (default event_time)")
    String timeColumn;

    @Option(names = "--entity-column", paramLabel = "C", description = "entity id column (optional)")
    String entityColumn;

    @Option(
            names = "--segment-columns",
            paramLabel = "C",
            split = ",",
            description = "Request.segments, key = column name (empty cells are left out)")
    List<String> segmentColumns;

    @Option(
            names = "--feature-columns",
            paramLabel = "C",
            split = ",",
            description = "named features (doubles); prefix* takes every column starting with prefix")
    List<String> featureColumns;

    @Option(
            names = "--vector-column",
            paramLabel = "PREFIX*",
            description = "instead of named features: a dense vector of floats, columns in header order")
    String vectorColumn;

    @Option(
            names = "--served-by-column",
            paramLabel = "C",
            description = "Request.served_by: the variant that answered in production, e.g. prod / canary"
                    + " (optional; an empty cell = not set)")
    String servedByColumn;

    @Option(
            names = "--production-score-column",
            paramLabel = "C",
            description = "Request.production_score (double): the score production returned"
                    + " (optional; an empty cell = not logged)")
    String productionScoreColumn;

    @Option(names = "--label-column", paramLabel = "C", description = "label value (double); empty = never labelled")
    String labelColumn;

    @Option(
            names = "--label-time-column",
            paramLabel = "C",
            description = "label time (epoch ms / ISO-8601); empty = never labelled")
    String labelTimeColumn;

    @Option(
            names = "--label-delay-column",
            paramLabel = "C",
            description = "label time = event time + delay (ms, or a duration such as 3d); empty = never labelled")
    String labelDelayColumn;

    @Option(
            names = "--label-delay",
            paramLabel = "DIST",
            converter = DelayDistributionConverter.class,
            description = "label time = event time + a draw: fixed:7d or lognormal:median=3d,sigma=0.8[,never=0.05]")
    DelayDistribution labelDelay;

    @Option(
            names = "--seed",
            paramLabel = "N",
            description = "seed of the --label-delay draws (default 0); a draw depends only on seed and request id")
    Long seed;

    /** Whether any column option was given (they apply to CSV input only). */
    public boolean anyGiven() {
        return idColumn != null
                || timeColumn != null
                || entityColumn != null
                || segmentColumns != null
                || featureColumns != null
                || vectorColumn != null
                || servedByColumn != null
                || productionScoreColumn != null
                || labelColumn != null
                || labelTimeColumn != null
                || labelDelayColumn != null
                || labelDelay != null
                || seed != null;
    }

    /** @throws UsageException for a combination that maps no features or no label time */
    public RowSpec toRowSpec() {
        return new RowSpec(
                idColumn == null ? "request_id" : idColumn,
                timeColumn == null ? "event_time" : timeColumn,
                entityColumn,
                names(segmentColumns),
                names(featureColumns),
                vectorColumn,
                servedByColumn,
                productionScoreColumn,
                labelColumn,
                labelTimeColumn,
                labelDelayColumn,
                labelDelay,
                seed == null ? 0 : seed);
    }

    /** Trimmed, without blanks: "a, b," is [a, b]. */
    private static List<String> names(List<String> columns) {
        return columns == null
                ? List.of()
                : columns.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
