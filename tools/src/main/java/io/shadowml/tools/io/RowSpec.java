package io.shadowml.tools.io;

import java.io.Serializable;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

import io.shadowml.jobs.config.DurationParser;
import io.shadowml.tools.cli.UsageException;

/**
 * How the columns of a CSV file map onto {@code Request} and {@code Label}; the same for the replay tool and
 * the backtest. Built from the command-line options of {@link io.shadowml.tools.cli.ColumnOptions}.
 */
public final class RowSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    public final String idColumn;
    public final String timeColumn;
    public final String entityColumn;
    public final List<String> segmentColumns;
    /** Exact names, or a prefix ending in '*'. */
    public final List<String> featureColumns;
    /** A prefix ending in '*' (or an exact column name), for a dense vector in header order. */
    public final String vectorColumn;
    /** Request.served_by: which variant answered in production (canary / A-B analysis); optional. */
    public final String servedByColumn;
    /** Request.production_score: the score production returned (parity, logged live output); optional. */
    public final String productionScoreColumn;

    public final String labelColumn;
    public final String labelTimeColumn;
    public final String labelDelayColumn;
    public final DelayDistribution labelDelay;
    public final long seed;

    /** Without the optional served_by and production_score columns. */
    public RowSpec(
            String idColumn,
            String timeColumn,
            String entityColumn,
            List<String> segmentColumns,
            List<String> featureColumns,
            String vectorColumn,
            String labelColumn,
            String labelTimeColumn,
            String labelDelayColumn,
            DelayDistribution labelDelay,
            long seed) {
        this(
                idColumn,
                timeColumn,
                entityColumn,
                segmentColumns,
                featureColumns,
                vectorColumn,
                null,
                null,
                labelColumn,
                labelTimeColumn,
                labelDelayColumn,
                labelDelay,
                seed);
    }

    public RowSpec(
            String idColumn,
            String timeColumn,
            String entityColumn,
            List<String> segmentColumns,
            List<String> featureColumns,
            String vectorColumn,
            String servedByColumn,
            String productionScoreColumn,
            String labelColumn,
            String labelTimeColumn,
            String labelDelayColumn,
            DelayDistribution labelDelay,
            long seed) {
        this.idColumn = idColumn;
        this.timeColumn = timeColumn;
        this.entityColumn = entityColumn;
        this.segmentColumns = List.copyOf(segmentColumns);
        this.featureColumns = List.copyOf(featureColumns);
        this.vectorColumn = vectorColumn;
        this.servedByColumn = servedByColumn;
        this.productionScoreColumn = productionScoreColumn;
        this.labelColumn = labelColumn;
        this.labelTimeColumn = labelTimeColumn;
        this.labelDelayColumn = labelDelayColumn;
        this.labelDelay = labelDelay;
        this.seed = seed;
        if (featureColumns.isEmpty() == (vectorColumn == null)) {
            throw new UsageException("give exactly one of --feature-columns and --vector-column");
        }
        int labelTimes =
                (labelTimeColumn != null ? 1 : 0) + (labelDelayColumn != null ? 1 : 0) + (labelDelay != null ? 1 : 0);
        if (labelColumn != null && labelTimes != 1) {
            throw new UsageException(
                    "with --label-column give exactly one of --label-time-column, --label-delay-column, --label-delay");
        }
        if (labelColumn == null && labelTimes != 0) {
            throw new UsageException("--label-time-column / --label-delay-column / --label-delay need --label-column");
        }
    }

    /** Column indexes for one file's header; a missing column fails naming the file and the option. */
    final class Bound {
        final int columns;
        final List<String> names;
        final int id;
        final int time;
        final int entity;
        final int[] segments;
        final int[] features;
        final String[] featureNames;
        final int[] vector;
        final int servedBy;
        final int productionScore;
        final int label;
        final int labelTime;
        final int labelDelayCol;

        Bound(String file, List<String> header) {
            columns = header.size();
            names = List.copyOf(header);
            id = index(file, header, idColumn, "id-column");
            time = index(file, header, timeColumn, "time-column");
            entity = entityColumn == null ? -1 : index(file, header, entityColumn, "entity-column");
            segments = new int[segmentColumns.size()];
            for (int i = 0; i < segments.length; i++) {
                segments[i] = index(file, header, segmentColumns.get(i), "segment-columns");
            }
            List<Integer> f = new ArrayList<>();
            for (String c : featureColumns) {
                f.addAll(matching(file, header, c, "feature-columns"));
            }
            features = f.stream().mapToInt(Integer::intValue).toArray();
            featureNames = new String[features.length];
            for (int i = 0; i < features.length; i++) {
                featureNames[i] = header.get(features[i]);
            }
            vector = vectorColumn == null
                    ? new int[0]
                    : matching(file, header, vectorColumn, "vector-column").stream()
                            .mapToInt(Integer::intValue)
                            .toArray();
            servedBy = servedByColumn == null ? -1 : index(file, header, servedByColumn, "served-by-column");
            productionScore = productionScoreColumn == null
                    ? -1
                    : index(file, header, productionScoreColumn, "production-score-column");
            label = labelColumn == null ? -1 : index(file, header, labelColumn, "label-column");
            labelTime = labelTimeColumn == null ? -1 : index(file, header, labelTimeColumn, "label-time-column");
            labelDelayCol = labelDelayColumn == null ? -1 : index(file, header, labelDelayColumn, "label-delay-column");
        }
    }

    private static int index(String file, List<String> header, String column, String option) {
        int i = header.indexOf(column);
        if (i < 0) {
            throw new UsageException(
                    file + ": no column '" + column + "' (option --" + option + "); the header has " + header);
        }
        return i;
    }

    private static List<Integer> matching(String file, List<String> header, String pattern, String option) {
        if (!pattern.endsWith("*")) {
            return List.of(index(file, header, pattern, option));
        }
        String prefix = pattern.substring(0, pattern.length() - 1);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).startsWith(prefix)) {
                out.add(i);
            }
        }
        if (out.isEmpty()) {
            throw new UsageException(
                    file + ": no column matches '" + pattern + "' (option --" + option + "); the header has " + header);
        }
        return out;
    }

    /** Epoch milliseconds or an ISO-8601 instant (2026-01-05T00:00:00Z). */
    static long parseTime(String s) {
        String t = s.trim();
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            try {
                return Instant.parse(t).toEpochMilli();
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("'" + s + "' is neither epoch milliseconds nor an ISO-8601 instant");
            }
        }
    }

    /** Milliseconds, or a duration such as 3d / PT5H. */
    static long parseDelay(String s) {
        String t = s.trim();
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            return DurationParser.parse(t).toMillis();
        }
    }
}
