package io.shadowml.models;

/**
 * A model descriptor ({@code model.json}) or the model it points to is not usable: the message
 * always names the descriptor file and, where one is to blame, the descriptor field, e.g.
 * {@code models/shipped/fraud/live/model.json: field 'input.tensor': graph has no input named
 * 'feats' (inputs: [features])}.
 */
public class ModelConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String descriptorFile;
    private final String field;

    /**
     * @param descriptorFile the descriptor file as it was given to {@link ModelDescriptor#load}
     * @param field the dotted descriptor field to blame ({@code input.tensor}), or {@code null}
     * @param detail what is wrong
     */
    public ModelConfigException(String descriptorFile, String field, String detail) {
        this(descriptorFile, field, detail, null);
    }

    public ModelConfigException(String descriptorFile, String field, String detail, Throwable cause) {
        super(format(descriptorFile, field, detail), cause);
        this.descriptorFile = descriptorFile;
        this.field = field;
    }

    private static String format(String descriptorFile, String field, String detail) {
        return field == null ? descriptorFile + ": " + detail : descriptorFile + ": field '" + field + "': " + detail;
    }

    /** The descriptor file the problem was found in, as given to {@link ModelDescriptor#load}. */
    public String descriptorFile() {
        return descriptorFile;
    }

    /** The dotted name of the descriptor field to blame, or {@code null} when no single field is. */
    public String field() {
        return field;
    }
}
