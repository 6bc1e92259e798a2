package dev.lora4j.io.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and fully validated JSON header of a safetensors file.
 *
 * <p>Layout of the format: 8 bytes little-endian unsigned header length {@code N}; {@code N} bytes
 * of UTF-8 JSON; then the data area. The JSON object maps each tensor name to
 * {@code {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}} (offsets relative to the data
 * area) and may hold {@code "__metadata__"}, a string-to-string map.
 *
 * <p>Everything a reader could trip over later is checked here, once: known dtype, a shape whose
 * element count times the dtype size equals the byte range, ranges inside the data area and not
 * overlapping one another. After this, handing out a tensor cannot go out of bounds.
 */
final class SafetensorsHeader {
    /** The Python library refuses headers above 100 MB; so do we (it also bounds what we allocate). */
    static final long MAX_HEADER_BYTES = 100L * 1000 * 1000;
    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Tensors in the order of their byte ranges. */
    final List<TensorInfo> tensors;
    final Map<String, TensorInfo> byName;
    final Map<String, String> metadata;

    private SafetensorsHeader(List<TensorInfo> tensors, Map<String, String> metadata) {
        this.tensors = List.copyOf(tensors);
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Reads the 8-byte length prefix, checking it against the file size.
     *
     * @return the header length N, with 8 + N &le; fileSize guaranteed
     */
    static long checkHeaderLength(Path file, long fileSize, long lengthPrefix) throws SafetensorsException {
        if (lengthPrefix < 0 || lengthPrefix > MAX_HEADER_BYTES) {
            throw new SafetensorsException(file, "header length prefix is " + Long.toUnsignedString(lengthPrefix)
                    + " bytes; expected at most " + MAX_HEADER_BYTES + " (is this a safetensors file?)");
        }
        if (8 + lengthPrefix > fileSize) {
            throw new SafetensorsException(file, "header length prefix says " + lengthPrefix
                    + " bytes of header but the file has only " + (fileSize - 8) + " bytes after the prefix"
                    + " (file truncated, or not a safetensors file)");
        }
        return lengthPrefix;
    }

    /** Parses and validates the header JSON; {@code dataSize} is the size of the data area in bytes. */
    static SafetensorsHeader parse(Path file, ByteBuffer headerBytes, long dataSize) throws SafetensorsException {
        JsonNode root = parseJson(file, headerBytes);
        if (!root.isObject()) {
            throw new SafetensorsException(file, "header must be a JSON object, found " + describe(root));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                tensors.add(readEntry(file, field.getKey(), field.getValue(), dataSize));
            }
        }
        checkNoOverlap(file, tensors);
        return new SafetensorsHeader(tensors, metadata);
    }

    private static JsonNode parseJson(Path file, ByteBuffer headerBytes) throws SafetensorsException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(file, "header is not valid UTF-8 text", e);
        }
        try {
            JsonNode root = JSON.readTree(text);
            if (root == null || root.isMissingNode()) {
                throw new SafetensorsException(file, "header is empty; expected a JSON object");
            }
            return root;
        } catch (JacksonException e) {
            throw new SafetensorsException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> into) throws SafetensorsException {
        if (!node.isObject()) {
            throw new SafetensorsException(file, METADATA_KEY + " must be an object of strings, found " + describe(node));
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(file, METADATA_KEY + " entry '" + e.getKey()
                        + "' must be a string, found " + describe(e.getValue()));
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readEntry(Path file, String name, JsonNode node, long dataSize)
            throws SafetensorsException {
        if (!node.isObject()) {
            throw SafetensorsException.forTensor(file, name,
                    "expected an object with dtype, shape and data_offsets, found " + describe(node));
        }
        JsonNode dtypeNode = required(file, name, node, "dtype");
        if (!dtypeNode.isTextual()) {
            throw SafetensorsException.forTensor(file, name, "dtype must be a string, found " + describe(dtypeNode));
        }
        String dtypeName = dtypeNode.textValue();
        StoredDType dtype = StoredDType.fromName(dtypeName);
        if (dtype == null) {
            throw SafetensorsException.forTensor(file, name, "unknown dtype \"" + dtypeName
                    + "\"; safetensors defines " + StoredDType.knownNames());
        }
        int[] shape = readShape(file, name, required(file, name, node, "shape"));
        long[] range = readOffsets(file, name, required(file, name, node, "data_offsets"));
        long begin = range[0];
        long end = range[1];
        if (end > dataSize) {
            throw SafetensorsException.forTensor(file, name, "data_offsets [" + begin + ", " + end
                    + ") reach past the end of the data area, which has " + dataSize + " bytes");
        }
        long numel;
        long expectedBytes;
        try {
            numel = 1;
            for (int d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            expectedBytes = dtype.byteSizeOf(numel);
        } catch (ArithmeticException e) {
            throw SafetensorsException.forTensor(file, name, "shape " + java.util.Arrays.toString(shape)
                    + " has too many elements to address");
        }
        if (expectedBytes < 0) {
            throw SafetensorsException.forTensor(file, name, "shape " + java.util.Arrays.toString(shape)
                    + " of " + dtypeName + " is not a whole number of bytes");
        }
        if (expectedBytes != end - begin) {
            throw SafetensorsException.forTensor(file, name, dtypeName + java.util.Arrays.toString(shape)
                    + " needs " + numel + " x " + dtypeName + " = " + expectedBytes
                    + " bytes, but data_offsets [" + begin + ", " + end + ") hold " + (end - begin) + " bytes");
        }
        return new TensorInfo(name, dtypeName, shape, begin, end);
    }

    private static JsonNode required(Path file, String name, JsonNode entry, String field) throws SafetensorsException {
        JsonNode v = entry.get(field);
        if (v == null) {
            throw SafetensorsException.forTensor(file, name, "missing field \"" + field + "\"");
        }
        return v;
    }

    private static int[] readShape(Path file, String name, JsonNode node) throws SafetensorsException {
        if (!node.isArray()) {
            throw SafetensorsException.forTensor(file, name, "shape must be an array of sizes, found " + describe(node));
        }
        int[] shape = new int[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw SafetensorsException.forTensor(file, name, "shape entry " + i
                        + " must be an integer in [0, " + Integer.MAX_VALUE + "], found " + describe(d));
            }
            shape[i] = d.intValue();
        }
        return shape;
    }

    private static long[] readOffsets(Path file, String name, JsonNode node) throws SafetensorsException {
        if (!node.isArray() || node.size() != 2) {
            throw SafetensorsException.forTensor(file, name,
                    "data_offsets must be an array [begin, end], found " + describe(node));
        }
        long[] r = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw SafetensorsException.forTensor(file, name,
                        "data_offsets must hold two non-negative integers, found " + describe(node));
            }
            r[i] = v.longValue();
        }
        if (r[1] < r[0]) {
            throw SafetensorsException.forTensor(file, name,
                    "data_offsets [" + r[0] + ", " + r[1] + ") end before they begin");
        }
        return r;
    }

    /** Sorted by begin, each non-empty range must start at or after the previous one's end. */
    private static void checkNoOverlap(Path file, List<TensorInfo> tensors) throws SafetensorsException {
        tensors.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo previous = null;
        for (TensorInfo t : tensors) {
            if (t.byteSize() == 0) {
                continue; // an empty tensor occupies no bytes and cannot overlap anything
            }
            if (previous != null && t.begin() < previous.end()) {
                throw SafetensorsException.forTensor(file, t.name(), "byte range [" + t.begin() + ", " + t.end()
                        + ") overlaps tensor '" + previous.name() + "' at [" + previous.begin() + ", "
                        + previous.end() + ")");
            }
            previous = t;
        }
    }

    private static String describe(JsonNode node) {
        String text = node.toString();
        String shown = text.length() > 60 ? text.substring(0, 57) + "..." : text;
        return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + shown;
    }
}
