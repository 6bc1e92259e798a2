package dev.lora4j.nn;

import dev.lora4j.tensor.Tensor;

/**
 * Activation buffers: zero-filled F32 matrices on the Java heap.
 *
 * <p>On the heap rather than off-heap ({@code Arena.ofAuto()}) because the garbage collector sees
 * their size: an off-heap buffer is freed only when a collection happens to find its small owner
 * object unreachable, so a training loop that allocates hundreds of MB of activations per step
 * while the heap barely fills would let resident memory climb far past what is live. Heap arrays
 * are also faster to allocate (no cleaner registration) and the kernels read them through the same
 * {@code MemorySegment} API.
 */
public final class Buffers {
    private Buffers() {}

    public static Tensor f32(int rows, int cols) {
        return Tensor.zeros(rows, cols);
    }

    /**
     * {@code buffer} when it already has this shape, else a new one. The content is not cleared:
     * callers overwrite it completely (kernels called with accumulate = false).
     */
    public static Tensor reuse(Tensor buffer, int rows, int cols) {
        if (buffer != null && buffer.dim(0) == rows && buffer.dim(1) == cols) {
            return buffer;
        }
        return f32(rows, cols);
    }

    /** {@code array} when it has length {@code n}, else a new one; not cleared. */
    public static float[] reuse(float[] array, int n) {
        return array != null && array.length == n ? array : new float[n];
    }

    private static final ThreadLocal<java.util.Map<String, Tensor>> GRADIENTS =
            ThreadLocal.withInitial(java.util.HashMap::new);

    /**
     * A gradient buffer shared by every layer that plays {@code role}: layers run backward one at
     * a time, so the blocks of a model need one set of gradient buffers, not one set each (for a
     * 8-layer model this is most of the difference between keeping and sharing). A role must name
     * a buffer whose use ends before the next layer of the same role starts its backward: internal
     * gradients of an MLP or an attention layer, or a norm's input gradient named by its position in
     * the block (see {@link #roleOf}). Valid until the next call for the same role on this thread.
     */
    public static Tensor gradient(String role, int rows, int cols) {
        return shared(role, rows, cols);
    }

    /**
     * A scratch buffer shared by every layer that plays {@code role}, for values whose use ends before
     * the next layer of the same role runs: gradients in backward (see {@link #gradient}), and forward
     * outputs that nothing keeps for backward, such as an output projection's result that is only added
     * to the residual stream.
     */
    public static Tensor shared(String role, int rows, int cols) {
        java.util.Map<String, Tensor> byRole = GRADIENTS.get();
        Tensor t = reuse(byRole.get(role), rows, cols);
        byRole.put(role, t);
        return t;
    }

    /** The role of a layer named by its module path: the path with layer indices replaced by '*'. */
    public static String roleOf(String modulePath) {
        return modulePath.replaceAll("\\.\\d+(?=\\.|$)", ".*");
    }

    /** The enclosing module of {@code modulePath} ({@code a.b.c} → {@code a.b}; a top-level name is its own). */
    public static String parentPath(String modulePath) {
        int dot = modulePath.lastIndexOf('.');
        return dot < 0 ? modulePath : modulePath.substring(0, dot);
    }
}
