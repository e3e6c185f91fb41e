package io.shadowml.tools.backtest;

import java.nio.file.Path;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.enumerate.NonSplittingRecursiveEnumerator;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.DecodingDeserializer;
import io.shadowml.tools.io.RowSpec;

/**
 * The backtest's bounded sources: Flink's {@link FileSource} over one history file each, read by
 * {@link HistoryFormat}. One split per file (the format is not splittable), read by whichever reader
 * gets it; with a higher parallelism the other readers finish at once.
 */
final class HistorySources {
    private HistorySources() {}

    /** Requests from a CSV file (spec required) or an Avro container of Requests (spec null). */
    static FileSource<Decoded<Request>> requests(Path file, RowSpec spec) {
        return source(HistoryFormat.requests(file.toString(), name(file), spec), file);
    }

    /** The labels of a CSV file's rows. */
    static FileSource<Decoded<Label>> csvLabels(Path file, RowSpec spec) {
        return source(HistoryFormat.labels(HistoryFormat.Kind.CSV_LABELS, file.toString(), name(file), spec), file);
    }

    /** Labels from an Avro container file of Labels. */
    static FileSource<Decoded<Label>> avroLabels(Path file) {
        return source(HistoryFormat.labels(HistoryFormat.Kind.AVRO_LABELS, file.toString(), name(file), null), file);
    }

    /** Requests or labels as JSON lines, decoded by the config's json mapping. */
    static <T extends SpecificRecord> FileSource<Decoded<T>> jsonLines(
            Path file, Class<T> type, TypeInformation<Decoded<T>> producedType, DecodingDeserializer<T> decoding) {
        return source(HistoryFormat.jsonLines(file.toString(), name(file), type, producedType, decoding), file);
    }

    /** No labels: the requests file opened and not read, since a file source needs a file. */
    static FileSource<Decoded<Label>> noLabels(Path requestsFile) {
        return source(
                HistoryFormat.labels(HistoryFormat.Kind.NONE, requestsFile.toString(), name(requestsFile), null),
                requestsFile);
    }

    private static <T> FileSource<T> source(SimpleStreamFormat<T> format, Path file) {
        return FileSource.forRecordStreamFormat(format, org.apache.flink.core.fs.Path.fromLocalFile(file.toFile()))
                // Any file name: the default enumerator skips names starting with '.' or '_'.
                .setFileEnumerator(() -> new NonSplittingRecursiveEnumerator(path -> true))
                .build();
    }

    private static String name(Path file) {
        return file.getFileName().toString();
    }
}
