package io.shadowml.tools.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small, strict {@code --name value} / {@code --name=value} parser. Every option must be declared; an
 * unknown or repeated (non-repeatable) option is a {@link UsageException} naming it.
 */
public final class Args {
    private final Set<String> valued = new LinkedHashSet<>();
    private final Set<String> repeatable = new LinkedHashSet<>();
    private final Set<String> flags = new LinkedHashSet<>();
    private final Map<String, List<String>> values = new LinkedHashMap<>();

    public Args option(String... names) {
        valued.addAll(Arrays.asList(names));
        return this;
    }

    public Args repeatable(String... names) {
        valued.addAll(Arrays.asList(names));
        repeatable.addAll(Arrays.asList(names));
        return this;
    }

    public Args flag(String... names) {
        flags.addAll(Arrays.asList(names));
        return this;
    }

    public Args parse(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "' (options start with --)");
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) {
                    throw new UsageException("option --" + name + " takes no value");
                }
                values.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
                continue;
            }
            if (!valued.contains(name)) {
                throw new UsageException("unknown option --" + name);
            }
            if (value == null) {
                if (i + 1 >= argv.length) {
                    throw new UsageException("option --" + name + " needs a value");
                }
                value = argv[++i];
            }
            List<String> list = values.computeIfAbsent(name, k -> new ArrayList<>());
            if (!list.isEmpty() && !repeatable.contains(name)) {
                throw new UsageException("option --" + name + " given more than once");
            }
            list.add(value);
        }
        return this;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public String get(String name) {
        List<String> v = values.get(name);
        return v == null ? null : v.get(0);
    }

    public String get(String name, String fallback) {
        String v = get(name);
        return v == null ? fallback : v;
    }

    public String required(String name) {
        String v = get(name);
        if (v == null || v.isBlank()) {
            throw new UsageException("option --" + name + " is required");
        }
        return v;
    }

    public List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    /** A comma-separated list option; empty when absent. */
    public List<String> list(String name) {
        String v = get(name);
        if (v == null || v.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    public double positiveDouble(String name, double fallback) {
        String v = get(name);
        if (v == null) {
            return fallback;
        }
        try {
            double d = Double.parseDouble(v);
            if (!(d > 0) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " must be a positive number, was '" + v + "'");
        }
    }

    public long longValue(String name, long fallback) {
        String v = get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " must be an integer, was '" + v + "'");
        }
    }

    public Path existingFile(String name) {
        Path p = Path.of(required(name));
        if (!Files.isRegularFile(p)) {
            throw new UsageException("option --" + name + ": file " + p + " does not exist");
        }
        return p;
    }
}
