package io.shadowml.tools.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NoSuchElementException;

import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

import io.shadowml.avro.Request;
import io.shadowml.tools.cli.UsageException;

/**
 * An Avro object container file of {@link Request} records (any writer schema Avro can resolve to the
 * current Request schema). Records are passed on as they are, without labels: those come from a separate
 * Label container file. A request without event_time keeps the previous record's time as its timestamp
 * (the job dead-letters it).
 */
public final class AvroHistoryReader implements HistoryReader {
    private final String name;
    private final long size;
    private final DataFileReader<Request> in;
    private long index;
    private long lastTime;

    public AvroHistoryReader(Path file) throws IOException {
        this.name = file.getFileName().toString();
        this.size = Math.max(1, Files.size(file));
        try {
            this.in = new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(Request.class));
        } catch (IOException | RuntimeException e) {
            throw new UsageException(file + ": not a readable Avro container file of Request records: " + e.getMessage());
        }
        if (!in.getSchema().getFullName().equals(Request.getClassSchema().getFullName())) {
            in.close();
            throw new UsageException(file + ": holds " + in.getSchema().getFullName() + " records, expected "
                    + Request.getClassSchema().getFullName());
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public double progress() {
        return Math.min(1.0, (double) in.previousSync() / size);
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
