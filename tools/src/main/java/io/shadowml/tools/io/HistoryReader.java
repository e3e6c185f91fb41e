package io.shadowml.tools.io;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

import io.shadowml.tools.cli.UsageException;

/**
 * The one parser of history files, used by the replay tool and by the backtest's sources. Two formats:
 * <ul>
 *   <li><b>CSV</b> with a header (columns mapped by a {@link RowSpec}): each row is a request and, if the
 *       mapping gives it one, its label;</li>
 *   <li><b>Avro object container files</b>: one of {@code io.shadowml.avro.Request} records (read here,
 *       without labels) and, separately, one of {@code io.shadowml.avro.Label} records
 *       ({@link LabelFileReader}).</li>
 * </ul>
 */
public interface HistoryReader extends Iterator<HistoryRecord>, Closeable {

    enum Format {
        CSV,
        AVRO
    }

    /** Fraction of the input consumed, in [0, 1]. */
    double progress();

    /** The file's name, used as the "topic" of the backtest's records and dead letters. */
    String name();

    /** CSV or Avro, by content: an Avro container file starts with "Obj" 0x01. */
    static Format detect(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'O' && magic[1] == 'b' && magic[2] == 'j' && magic[3] == 1
                    ? Format.AVRO
                    : Format.CSV;
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Opens requests: a CSV file (spec required) or an Avro container of Requests (spec ignored). */
    static HistoryReader open(Path file, RowSpec spec) throws IOException {
        if (detect(file) == Format.AVRO) {
            return new AvroHistoryReader(file);
        }
        if (spec == null) {
            throw new UsageException(file + " is a CSV file: the column options (--feature-columns ...) are required");
        }
        return new CsvHistoryReader(file, spec);
    }
}
