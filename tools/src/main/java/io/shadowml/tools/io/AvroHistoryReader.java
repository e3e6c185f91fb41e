package io.shadowml.tools.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NoSuchElementException;

import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;

import io.shadowml.avro.Request;
import io.shadowml.tools.cli.UsageException;

/**
 * An Avro object container file of {@link Request} records (any writer schema Avro can resolve to the
 * current Request schema). Records are passed on as they are, without labels: those come from a separate
 * Label container file. A request without event_time keeps the previous record's time as its timestamp
 * (the job dead-letters it). Read as a stream, so a file and a Flink file source's stream read alike.
 */
public final class AvroHistoryReader implements HistoryReader {
    private final String name;
    private final long size;
    private final CountingInputStream counting;
    private final DataFileStream<Request> in;
    private long index;
    private long lastTime;

    public AvroHistoryReader(Path file) throws IOException {
        this(file.toString(), file.getFileName().toString(), Files.newInputStream(file), Files.size(file));
    }

    /**
     * Reads a container file's stream (and closes it).
     *
     * @param where how errors name the input (its path)
     * @param name  the file's name, the "topic" of the backtest's records
     * @param size  the stream's length in bytes, for {@link #progress}; 0 if unknown
     */
    public AvroHistoryReader(String where, String name, InputStream stream, long size) throws IOException {
        this.name = name;
        this.size = Math.max(1, size);
        this.counting = new CountingInputStream(stream);
        try {
            this.in = new DataFileStream<>(
                    new BufferedInputStream(counting, 1 << 16), new SpecificDatumReader<>(Request.class));
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw new UsageException(
                    where + ": not a readable Avro container file of Request records: " + e.getMessage());
        }
        if (!in.getSchema().getFullName().equals(Request.getClassSchema().getFullName())) {
            in.close();
            throw new UsageException(where + ": holds " + in.getSchema().getFullName() + " records, expected "
                    + Request.getClassSchema().getFullName());
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public double progress() {
        return Math.min(1.0, (double) counting.count / size);
    }

    @Override
    public boolean hasNext() {
        return in.hasNext();
    }

    @Override
    public HistoryRecord next() {
        if (!in.hasNext()) {
            throw new NoSuchElementException();
        }
        Request r = in.next();
        if (r.getEventTime() != null) {
            lastTime = r.getEventTime().toEpochMilli();
        }
        return HistoryRecord.good(index++, r, null, lastTime);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
