package io.shadowml.tools.io;

/** Why an input row was skipped; the replay summary counts rows by these. */
public enum Problem {
    MALFORMED_CSV("malformed CSV (unterminated quote)"),
    WRONG_COLUMN_COUNT("wrong column count"),
    MISSING_ID("missing id"),
    MISSING_EVENT_TIME("missing event time"),
    BAD_EVENT_TIME("unparseable event time"),
    MISSING_VALUE("missing feature value"),
    BAD_NUMBER("unparseable number"),
    BAD_LABEL("unparseable label"),
    BAD_LABEL_TIME("unparseable or negative label time/delay");

    public final String text;

    Problem(String text) {
        this.text = text;
    }
}
