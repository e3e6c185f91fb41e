package io.shadowml.jobs.io.format;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** {@code format: json}: each value is one UTF-8 JSON object. */
public final class JsonPayload implements PayloadFormat {
    private static final long serialVersionUID = 1L;

    private transient ObjectMapper mapper;

    @Override
    public Object read(byte[] value) {
        if (mapper == null) {
            // Two objects in one value, or an object followed by garbage, is a producer bug, not a record.
            mapper = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        }
        try {
            JsonNode root = mapper.readTree(value);
            if (root == null || root.isMissingNode()) {
                return "undecodable JSON: no value";
            }
            return root.isObject()
                    ? root
                    : "undecodable JSON: the value is " + Values.describe(root) + ", not an object";
        } catch (JsonProcessingException e) {
            return "undecodable JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null
                            ? ""
                            : " at byte " + e.getLocation().getByteOffset());
        } catch (IOException e) {
            return "undecodable JSON: " + e.getMessage();
        }
    }

    @Override
    public String name() {
        return "JSON";
    }
}
