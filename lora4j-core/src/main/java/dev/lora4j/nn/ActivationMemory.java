package dev.lora4j.nn;

import dev.lora4j.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * A model's activation policy: where its layers keep the activations their backward reads.
 *
 * <p><b>Keep</b> (the default): every layer has buffers of its own, so after a training forward the
 * internals of every block are live at once: memory ~ layers × (one block's internals).
 *
 * <p><b>Recompute</b> (activation recomputation, a.k.a. gradient checkpointing): the layers that play
 * the same role in different blocks (the same module path up to the layer index, see
 * {@link Buffers#roleOf}) share one buffer, so a block's internals live only until the next block's
 * forward overwrites them. A {@link BlockStack} keeps each block's input and, just before a block's
 * backward, re-runs that block's forward from it, which puts back exactly the values the backward
 * reads. Memory ~ layers × [rows, hidden] + one block's internals; time ~ one more forward per step.
 *
 * <p>Layers ask for their buffers through {@link Slot}s; a slot of a block's output (the next block's
 * saved input) is {@linkplain #keptSlot kept per layer} in both modes. The memory counts the bytes its
 * slots hold ({@link #bytesHeld}), so the difference between the modes can be measured and tested.
 */
public final class ActivationMemory {
    private boolean recompute;
    private final Map<String, Tensor> sharedMatrices = new HashMap<>();
    private final Map<String, float[]> sharedVectors = new HashMap<>();
    private long bytesHeld;

    /** Keep mode; a layer built on its own (not by a model) gets one of these for itself. */
    public ActivationMemory() {}

    public boolean recomputes() {
        return recompute;
    }

    /**
     * Switches the policy. Buffers of the other mode are let go (each slot drops its own buffer the
     * next time it is used), so switching costs one allocation per buffer, not two sets at once.
     */
    public void setRecompute(boolean recompute) {
        if (recompute == this.recompute) {
            return;
        }
        this.recompute = recompute;
        for (Tensor t : sharedMatrices.values()) {
            bytesHeld -= bytes(t);
        }
        for (float[] v : sharedVectors.values()) {
            bytesHeld -= (long) v.length * Float.BYTES;
        }
        sharedMatrices.clear();
        sharedVectors.clear();
    }

    /** Bytes of activation buffers this memory's slots hold now (each shared buffer counted once). */
    public long bytesHeld() {
        return bytesHeld;
    }

    /**
     * A slot for a buffer inside a block (shared by every block in recompute mode), of the layer at
     * {@code modulePath}; {@code what} tells the layer's buffers apart ("output", "invRms", ...).
     */
    public Slot slot(String modulePath, String what) {
        return new Slot(Buffers.roleOf(modulePath) + "#" + what, true);
    }

    /** A slot that is per layer in both modes: a block's output, which the next block keeps as its input. */
    public Slot keptSlot() {
        return new Slot(null, false);
    }

    private static long bytes(Tensor t) {
        return (long) t.dim(0) * t.dim(1) * Float.BYTES;
    }

    /** One buffer of one layer: its own, or (recomputing) the one its role shares. Contents are not cleared. */
    public final class Slot {
        private final String role;
        private final boolean sharedWhenRecomputing;
        private Tensor ownMatrix;
        private float[] ownVector;

        private Slot(String role, boolean sharedWhenRecomputing) {
            this.role = role;
            this.sharedWhenRecomputing = sharedWhenRecomputing;
        }

        /** An F32 [rows, cols] buffer: the one of last time, or a view of its first rows when it is larger. */
        public Tensor matrix(int rows, int cols) {
            if (recompute && sharedWhenRecomputing) {
                dropOwn();
                Tensor held = sharedMatrices.get(role);
                Tensor t = Buffers.reuse(held, rows, cols);
                if (t != held) {
                    bytesHeld += bytes(t) - (held == null ? 0 : bytes(held));
                    sharedMatrices.put(role, t);
                }
                return t;
            }
            // Fewer rows than the buffer holds get a view of its first rows: the server alternates
            // prompt steps and decode steps of different row counts, and reallocating each time made
            // gigabytes of garbage.
            if (ownMatrix != null && ownMatrix.dim(1) == cols && ownMatrix.dim(0) >= rows) {
                return rows == ownMatrix.dim(0) ? ownMatrix : ownMatrix.slice(0, 0, rows);
            }
            Tensor t = Buffers.f32(rows, cols);
            bytesHeld += bytes(t) - (ownMatrix == null ? 0 : bytes(ownMatrix));
            ownMatrix = t;
            return t;
        }

        /** A float[n] buffer (per-row statistics such as a norm's 1/rms). */
        public float[] vector(int n) {
            if (recompute && sharedWhenRecomputing) {
                dropOwn();
                float[] held = sharedVectors.get(role);
                float[] v = Buffers.reuse(held, n);
                if (v != held) {
                    bytesHeld += (long) Float.BYTES * (n - (held == null ? 0 : held.length));
                    sharedVectors.put(role, v);
                }
                return v;
            }
            float[] v = Buffers.reuse(ownVector, n);
            if (v != ownVector) {
                bytesHeld += (long) Float.BYTES * (n - (ownVector == null ? 0 : ownVector.length));
                ownVector = v;
            }
            return v;
        }

        private void dropOwn() {
            if (ownMatrix != null) {
                bytesHeld -= bytes(ownMatrix);
                ownMatrix = null;
            }
            if (ownVector != null) {
                bytesHeld -= (long) ownVector.length * Float.BYTES;
                ownVector = null;
            }
        }
    }
}
