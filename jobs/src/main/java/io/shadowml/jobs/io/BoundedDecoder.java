package io.shadowml.jobs.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

/**
 * Avro binary decoding of one Kafka value that refuses any length or item count larger than the value
 * itself, before anything is allocated for it. Avro's own decoder allocates what a record declares (a
 * string's bytes, an array's capacity) and checks only against JVM-wide limits near 2 GB, so a record of
 * six bytes declaring a 2 GB string would run the TaskManager out of memory. Here nothing allocated for a
 * record can exceed a small multiple of its size: no string, byte sequence, array or map can be longer
 * than the bytes that carry it (every item takes at least one byte).
 */
public final class BoundedDecoder extends Decoder {
    /** Thrown for a declared length that cannot fit in the record: the record is malformed. */
    static final class DeclaredSizeException extends AvroRuntimeException {
        private static final long serialVersionUID = 1L;

        DeclaredSizeException(String message) {
            super(message);
        }
    }

    private BinaryDecoder in;
    private int limit;

    /** Decodes {@code value[offset..]}; reuses this decoder's buffers across records. */
    public BoundedDecoder reset(byte[] value, int offset) {
        in = DecoderFactory.get().binaryDecoder(value, offset, value.length - offset, in);
        limit = value.length - offset;
        return this;
    }

    public boolean isEnd() throws IOException {
        return in.isEnd();
    }

    private int checkLength(long length, String what) {
        if (length < 0) {
            throw new DeclaredSizeException("malformed record: negative " + what + " length " + length);
        }
        if (length > limit) {
            throw new DeclaredSizeException("malformed record: declares a " + what + " of " + length
                    + " bytes in a record of " + limit + " bytes");
        }
        return (int) length;
    }

    private long checkCount(long count, String what) {
        // BinaryDecoder already turned a negative block count (followed by a byte size) into its absolute value.
        if (count > limit) {
            throw new DeclaredSizeException(
                    "malformed record: declares " + count + " " + what + " items in a record of " + limit + " bytes");
        }
        return count;
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        int length = checkLength(in.readLong(), "string");
        Utf8 result = old != null ? old : new Utf8();
        result.setByteLength(length);
        if (length > 0) {
            in.readFixed(result.getBytes(), 0, length);
        }
        return result;
    }

    private byte[] scratch = new byte[64];

    @Override
    public String readString() throws IOException {
        int length = checkLength(in.readLong(), "string");
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        in.readFixed(scratch, 0, length);
        return new String(scratch, 0, length, StandardCharsets.UTF_8);
    }

    @Override
    public void skipString() throws IOException {
        in.skipFixed(checkLength(in.readLong(), "string"));
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        int length = checkLength(in.readLong(), "bytes");
        ByteBuffer result;
        if (old != null && length <= old.capacity()) {
            result = old;
            result.clear();
        } else {
            result = ByteBuffer.allocate(length);
        }
        in.readFixed(result.array(), result.position(), length);
        result.limit(length);
        return result;
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipFixed(checkLength(in.readLong(), "bytes"));
    }

    @Override
    public long readArrayStart() throws IOException {
        return checkCount(in.readArrayStart(), "array");
    }

    @Override
    public long arrayNext() throws IOException {
        return checkCount(in.arrayNext(), "array");
    }

    @Override
    public long readMapStart() throws IOException {
        return checkCount(in.readMapStart(), "map");
    }

    @Override
    public long mapNext() throws IOException {
        return checkCount(in.mapNext(), "map");
    }

    @Override
    public long skipArray() throws IOException {
        return in.skipArray();
    }

    @Override
    public long skipMap() throws IOException {
        return in.skipMap();
    }

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        in.readFixed(bytes, start, length);
    }

    @Override
    public void skipFixed(int length) throws IOException {
        in.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }
}
