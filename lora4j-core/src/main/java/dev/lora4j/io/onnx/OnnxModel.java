package dev.lora4j.io.onnx;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model (ModelProto) that weight import needs: the graph's nodes (op type,
 * inputs, outputs, Constant values) and its initializers (named weight tensors). Read directly from
 * the protobuf wire format; everything else in the file is skipped.
 *
 * <p>Field numbers (onnx.proto3): ModelProto.graph = 7; GraphProto.node = 1, initializer = 5;
 * NodeProto.input = 1, output = 2, name = 3, op_type = 4, attribute = 5; AttributeProto.name = 1,
 * t = 5; TensorProto.dims = 1, data_type = 2, float_data = 4, int64_data = 7, name = 8,
 * raw_data = 9, data_location = 14.
 */
public final class OnnxModel {
    private final String source;
    private final List<OnnxNode> nodes;
    private final Map<String, OnnxTensor> initializers;

    private OnnxModel(String source, List<OnnxNode> nodes, Map<String, OnnxTensor> initializers) {
        this.source = source;
        this.nodes = List.copyOf(nodes);
        this.initializers = initializers;
    }

    /** Memory-maps and parses {@code file}; tensor data stays valid while {@code arena} is open. */
    public static OnnxModel read(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return parse(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena), file.toString());
        }
    }

    /** Parses a ModelProto held in {@code bytes}; {@code source} names it in error messages. */
    public static OnnxModel parse(MemorySegment bytes, String source) {
        ProtoReader model = new ProtoReader(bytes, source + ": ModelProto");
        MemorySegment graph = null;
        while (model.hasMore()) {
            if (model.nextField() == 7) {
                graph = model.readBytes();
            } else {
                model.skip();
            }
        }
        if (graph == null) {
            throw new OnnxException(source + ": not an ONNX model (no graph)");
        }
        List<OnnxNode> nodes = new ArrayList<>();
        Map<String, OnnxTensor> initializers = new LinkedHashMap<>();
        ProtoReader g = new ProtoReader(graph, source + ": GraphProto");
        while (g.hasMore()) {
            switch (g.nextField()) {
                case 1 -> nodes.add(node(g.readMessage("node"), source));
                case 5 -> {
                    OnnxTensor t = tensor(g.readMessage("initializer"), source);
                    initializers.put(t.name(), t);
                }
                default -> g.skip();
            }
        }
        return new OnnxModel(source, nodes, initializers);
    }

    private static OnnxNode node(ProtoReader r, String source) {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Map<String, OnnxTensor> attributes = new LinkedHashMap<>();
        String name = "";
        String opType = null;
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> inputs.add(r.readString());
                case 2 -> outputs.add(r.readString());
                case 3 -> name = r.readString();
                case 4 -> opType = r.readString();
                case 5 -> {
                    ProtoReader a = r.readMessage("attribute");
                    String attrName = null;
                    OnnxTensor value = null;
                    while (a.hasMore()) {
                        switch (a.nextField()) {
                            case 1 -> attrName = a.readString();
                            case 5 -> value = tensor(a.readMessage("t"), source);
                            default -> a.skip();
                        }
                    }
                    if (attrName != null && value != null) {
                        attributes.put(attrName, value);
                    }
                }
                default -> r.skip();
            }
        }
        if (opType == null) {
            throw new OnnxException(source + ": node '" + name + "' has no op_type");
        }
        return new OnnxNode(name, opType, inputs, outputs, attributes);
    }

    private static OnnxTensor tensor(ProtoReader r, String source) {
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        MemorySegment raw = null;
        List<Float> floats = new ArrayList<>();
        List<Long> longs = new ArrayList<>();
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> r.readVarints(dims::add);
                case 2 -> dataType = (int) r.readVarint();
                case 4 -> readFloats(r, floats);
                case 7 -> r.readVarints(longs::add);
                case 8 -> name = r.readString();
                case 9 -> raw = r.readBytes();
                case 14 -> {
                    if (r.readVarint() != 0) {
                        throw new OnnxException(source + ": tensor '" + name
                                + "' keeps its data in an external file, which lora4j does not read");
                    }
                }
                default -> r.skip();
            }
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = Math.toIntExact(dims.get(i));
        }
        MemorySegment bytes = raw != null ? raw
                : !floats.isEmpty() ? littleEndianFloats(floats)
                : !longs.isEmpty() ? littleEndianLongs(longs)
                : MemorySegment.ofArray(new byte[0]);
        try {
            return new OnnxTensor(name, shape, dataType, bytes);
        } catch (OnnxException e) {
            throw new OnnxException(source + ": " + e.getMessage());
        }
    }

    private static void readFloats(ProtoReader r, List<Float> out) {
        MemorySegment seg = r.wireType() == ProtoReader.LENGTH_DELIMITED ? r.readBytes() : null;
        if (seg == null) {
            throw r.corrupt("float_data must be packed");
        }
        for (long i = 0; i < seg.byteSize() / 4; i++) {
            out.add(seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i));
        }
    }

    private static MemorySegment littleEndianFloats(List<Float> values) {
        MemorySegment s = MemorySegment.ofArray(new byte[values.size() * 4]);
        for (int i = 0; i < values.size(); i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, values.get(i));
        }
        return s;
    }

    private static MemorySegment littleEndianLongs(List<Long> values) {
        MemorySegment s = MemorySegment.ofArray(new byte[values.size() * 8]);
        for (int i = 0; i < values.size(); i++) {
            s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, values.get(i));
        }
        return s;
    }

    public String source() {
        return source;
    }

    public List<OnnxNode> nodes() {
        return nodes;
    }

    /** Initializers by name, in file order. */
    public Map<String, OnnxTensor> initializers() {
        return java.util.Collections.unmodifiableMap(initializers);
    }
}
