package io.shadowml.tools.cli;

/** A usage or configuration error found before any work is done: the CLIs print it and exit with 2. */
public class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
