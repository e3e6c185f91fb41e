package io.shadowml.jobs.join;

/** A label that arrived before its prediction (or must wait for the pair's event time). */
public class EarlyLabel {
    public long labelTime;
    public double value;

    public EarlyLabel() {}

    public EarlyLabel(long labelTime, double value) {
        this.labelTime = labelTime;
        this.value = value;
    }
}
