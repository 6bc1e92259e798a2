package dev.lora4j.nn;

import dev.lora4j.tensor.Tensor;
import java.util.List;

/**
 * A model's stack of blocks run for training, under its {@link ActivationMemory}'s policy.
 *
 * <p>Forward remembers each block's input (a reference: it is the previous block's kept output or the
 * embeddings). In keep mode that is all; backward runs the blocks' backward from last to first. In
 * recompute mode the blocks' internals sit in buffers shared by all blocks, so before block i's
 * backward its forward is re-run from its remembered input, rebuilding in the shared buffers what
 * the first forward wrote there and the later blocks overwrote. The re-run is the same computation on
 * the same input (dropout masks are a function of seed, step and element, not of a draw count, and
 * nothing in a training forward advances any state), so the gradients are bit-identical to keep mode.
 *
 * <p>The last block is not re-run: its internals are still in the shared buffers when backward
 * starts, since nothing between a model's forward and its backward (final norm, head, loss) writes
 * block buffers. So recomputation costs the forward of all blocks but the last.
 *
 * <p>In recompute mode each block also lets go of what its layers saved beyond the shared buffers (an
 * adapter's dropout mask and masked input) as soon as it is done, so those do not pile up either.
 */
public final class BlockStack<B extends BlockStack.Block> {
    /** A transformer block as the stack sees it. */
    public interface Block {
        /** x [rows, hidden] → [rows, hidden], keeping what backward needs (in its slots). */
        Tensor forward(Tensor x, TokenBatch batch);

        /** dOut → dx, from what the last forward kept; adapters accumulate their gradients. */
        Tensor backward(Tensor dOut);

        List<Linear> linears();
    }

    private final ActivationMemory memory;
    private final List<B> blocks;
    private final Tensor[] inputs;
    private TokenBatch batch;
    /** The policy the last forward ran under (what backward must match, even if the policy changed since). */
    private boolean recomputing;

    public BlockStack(ActivationMemory memory, List<B> blocks) {
        this.memory = memory;
        this.blocks = List.copyOf(blocks);
        this.inputs = new Tensor[blocks.size()];
    }

    public B get(int i) {
        return blocks.get(i);
    }

    public int size() {
        return blocks.size();
    }

    public List<B> blocks() {
        return blocks;
    }

    /** Runs every block in order; returns the last block's output. */
    public Tensor forward(Tensor x, TokenBatch batch) {
        this.batch = batch;
        this.recomputing = memory.recomputes();
        Tensor h = x;
        int last = blocks.size() - 1;
        for (int i = 0; i <= last; i++) {
            inputs[i] = h;
            h = blocks.get(i).forward(h, batch);
            if (recomputing && i < last) {
                forgetSaved(blocks.get(i));
            }
        }
        return h;
    }

    /** Backward through every block from the last; returns the gradient of the first block's input. */
    public Tensor backward(Tensor dOut) {
        Tensor d = dOut;
        int last = blocks.size() - 1;
        for (int i = last; i >= 0; i--) {
            B block = blocks.get(i);
            if (recomputing && i < last) {
                block.forward(inputs[i], batch);
            }
            d = block.backward(d);
            if (recomputing) {
                forgetSaved(block);
            }
        }
        return d;
    }

    private static void forgetSaved(Block block) {
        for (Linear l : block.linears()) {
            l.clearSaved();
        }
    }
}
