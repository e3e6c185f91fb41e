package io.shadowml.jobs.config;

/** A job configuration that cannot run; the message names the file and the field. */
public class ConfigException extends RuntimeException {
    public ConfigException(String file, String field, String problem) {
        super(file + ": field '" + field + "': " + problem);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
