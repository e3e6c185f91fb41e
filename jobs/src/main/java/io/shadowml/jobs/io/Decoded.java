package io.shadowml.jobs.io;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

import io.shadowml.avro.DeadLetter;

/**
 * What a source yields for one Kafka record: the decoded value, or, when the bytes did not decode, a dead
 * letter that keeps the raw bytes and where they came from. Undecodable bytes travel on as data, so the
 * job never fails on them.
 */
public class Decoded<T> {
    /** The decoded record, or null when {@link #deadLetter} is set. */
    public T value;

    public DeadLetter deadLetter;
    /** Where the record came from, for a dead letter raised later (validation). */
    public String topic;

    public int partition;
    public long offset;
    /**
     * The source record's timestamp: the Kafka record timestamp, or for a file-based source the one the
     * replay tool would give the record. The job's time for records without an event time.
     */
    public long kafkaTimestamp;

    public byte[] raw;

    public Decoded() {}

    public static <T> Decoded<T> ok(T value, String topic, int partition, long offset, long timestamp, byte[] raw) {
        Decoded<T> d = new Decoded<>();
        d.value = value;
        d.topic = topic;
        d.partition = partition;
        d.offset = offset;
        d.kafkaTimestamp = timestamp;
        d.raw = raw;
        return d;
    }

    public static <T> Decoded<T> failed(
            String reason, String topic, int partition, long offset, long timestamp, byte[] key, byte[] raw) {
        Decoded<T> d = new Decoded<>();
        d.topic = topic;
        d.partition = partition;
        d.offset = offset;
        d.kafkaTimestamp = timestamp;
        d.deadLetter = deadLetter(reason, topic, partition, offset, timestamp, key, raw);
        return d;
    }

    /** A dead letter for this record with a reason found after decoding. */
    public DeadLetter reject(String reason) {
        return deadLetter(reason, topic, partition, offset, kafkaTimestamp, null, raw);
    }

    /** Longest raw value a dead letter copies: with the key and reason it stays far below a producer's 1 MB. */
    public static final int MAX_RAW_BYTES = 64 * 1024;

    public static final int MAX_KEY_BYTES = 1024;
    public static final int MAX_REASON_CHARS = 2000;

    static DeadLetter deadLetter(
            String reason, String topic, int partition, long offset, long timestamp, byte[] key, byte[] raw) {
        return DeadLetter.newBuilder()
                .setSourceTopic(topic)
                .setPartition(partition)
                .setOffset(offset)
                .setKey(key == null ? null : ByteBuffer.wrap(key, 0, Math.min(key.length, MAX_KEY_BYTES)))
                .setRaw(raw == null ? null : ByteBuffer.wrap(raw, 0, Math.min(raw.length, MAX_RAW_BYTES)))
                .setRawLength(raw == null ? null : raw.length)
                .setRawSha256(raw == null ? null : sha256(raw))
                .setReason(
                        reason.length() <= MAX_REASON_CHARS
                                ? reason
                                : reason.substring(0, MAX_REASON_CHARS) + "… (" + reason.length() + " characters)")
                .setFailedAt(Instant.ofEpochMilli(timestamp))
                .build();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
