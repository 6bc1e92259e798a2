package dev.lora4j.io.onnx;

import java.util.List;
import java.util.Map;

/**
 * One operator of an ONNX graph (NodeProto): its type, the names of the values it reads and writes,
 * and (for {@code Constant} nodes) the tensor attributes it carries.
 */
public record OnnxNode(String name, String opType, List<String> inputs, List<String> outputs,
                       Map<String, OnnxTensor> tensorAttributes) {
    public OnnxNode {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        tensorAttributes = Map.copyOf(tensorAttributes);
    }
}
