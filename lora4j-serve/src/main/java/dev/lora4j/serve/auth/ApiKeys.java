package dev.lora4j.serve.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The API keys file: one key per line,
 *
 * <pre>
 * # comment
 * KEY  ADAPTERS  [admin]
 * </pre>
 *
 * where ADAPTERS is {@code *} (every adapter), {@code -} (the base model only) or a comma-separated
 * list of adapter names (a tenant), and {@code admin} lets the key load and unload adapters. A key
 * is 16 or more characters without whitespace or '#'.
 *
 * <p>Keys are kept only as SHA-256 digests, so a heap dump or a log line cannot leak them, and a
 * presented key is looked up by its digest (no early-exit string comparison to time). Errors in the
 * file name the line, never the key.
 */
public final class ApiKeys {
    static final int MIN_KEY_LENGTH = 16;
    private static final Pattern ADAPTER_NAME = Pattern.compile("[A-Za-z0-9._-]+");

    private final Map<Digest, Caller> callers;

    private ApiKeys(Map<Digest, Caller> callers) {
        this.callers = Map.copyOf(callers);
    }

    /** Reads the file; warns through {@code warnings} when other users may read it. */
    public static ApiKeys load(Path file, Consumer<String> warnings) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("API keys file not found: " + file);
        }
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.contains(PosixFilePermission.OTHERS_READ) || p.contains(PosixFilePermission.GROUP_READ)) {
                warnings.accept(file + " can be read by other users; chmod 600 it");
            }
        } catch (UnsupportedOperationException notPosix) {
            // no POSIX permissions to check on this file system
        }
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
    }

    public static ApiKeys parse(List<String> lines, String source) {
        Map<Digest, Caller> callers = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = source + " line " + (i + 1);
            String[] parts = line.split("\\s+");
            if (parts.length < 2 || parts.length > 3) {
                throw new IllegalArgumentException(where + ": expected KEY ADAPTERS [admin] (ADAPTERS: *, - or a,b,c), got "
                        + parts.length + " field" + (parts.length == 1 ? "" : "s"));
            }
            if (parts[0].length() < MIN_KEY_LENGTH) {
                throw new IllegalArgumentException(where + ": the key is " + parts[0].length() + " characters; use at least "
                        + MIN_KEY_LENGTH + " (e.g. openssl rand -hex 24)");
            }
            boolean admin = false;
            if (parts.length == 3) {
                if (!parts[2].equals("admin")) {
                    throw new IllegalArgumentException(where + ": the third field may only be \"admin\"");
                }
                admin = true;
            }
            Caller caller = new Caller(where, adapters(parts[1], where), admin);
            if (callers.put(Digest.of(parts[0]), caller) != null) {
                throw new IllegalArgumentException(where + ": the same key is listed twice");
            }
        }
        if (callers.isEmpty()) {
            throw new IllegalArgumentException(source + ": no API keys (expected lines KEY ADAPTERS [admin])");
        }
        return new ApiKeys(callers);
    }

    private static Set<String> adapters(String field, String where) {
        if (field.equals("*")) {
            return null;
        }
        if (field.equals("-")) {
            return Set.of();
        }
        Set<String> names = new HashSet<>();
        for (String n : field.split(",")) {
            if (!ADAPTER_NAME.matcher(n).matches()) {
                throw new IllegalArgumentException(where + ": \"" + n + "\" is not an adapter name (letters, digits, . _ -)");
            }
            names.add(n);
        }
        return names;
    }

    /** The caller a key belongs to, or empty for an unknown key. */
    public Optional<Caller> caller(String key) {
        return Optional.ofNullable(callers.get(Digest.of(key)));
    }

    public int size() {
        return callers.size();
    }

    private record Digest(byte[] sha256) {
        static Digest of(String key) {
            try {
                return new Digest(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Digest d && MessageDigest.isEqual(sha256, d.sha256);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(sha256);
        }

        @Override
        public String toString() {
            return "Digest[…]";
        }
    }
}
