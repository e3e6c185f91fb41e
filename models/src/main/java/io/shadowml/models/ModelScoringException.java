package io.shadowml.models;

/** ONNX Runtime failed while scoring a batch of a model that had loaded fine. */
public class ModelScoringException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelScoringException(String message, Throwable cause) {
        super(message, cause);
    }

    public ModelScoringException(String message) {
        super(message);
    }
}
