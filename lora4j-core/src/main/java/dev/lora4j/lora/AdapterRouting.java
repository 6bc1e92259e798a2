package dev.lora4j.lora;

import dev.lora4j.model.CausalLM;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.LinearAdapter;
import dev.lora4j.tensor.Tensor;
import java.util.List;

/**
 * Several adapters in one inference step: the step's sequences are grouped by adapter, the frozen
 * base projection of every linear layer runs once over all rows, and each group's low-rank term
 * {@code s·(x·Aᵀ)·Bᵀ} is added to that group's rows only (the SGMV idea of Punica and S-LoRA, with
 * the rows already gathered: the caller orders the sequences so that each group is contiguous).
 * A group for the base model alone, or whose adapter does not target a layer, costs that layer
 * nothing.
 *
 * <p>{@link #install} puts a router into every linear layer's adapter slot; the caller then sets
 * the groups before each step. The group's own {@link LoraLinear} computes its term, with the
 * same code and the same kernels as when it alone is attached, so a request gets the same bits in
 * a mixed batch as alone (given the batch-invariant kernels of {@link dev.lora4j.kernels.Matmul#rowsBy}).
 * Inference only: there is no backward. Adapters on embeddings are not routed (the server refuses them).
 */
public final class AdapterRouting {
    /** Sequences [from, to) of the step run with {@code adapterOrNull} (null: the base model alone). */
    public record Group(int from, int to, LoraModel adapterOrNull) {
        public Group {
            if (from < 0 || to <= from) {
                throw new IllegalArgumentException("adapter group needs 0 ≤ from < to, got [" + from + ", " + to + ")");
            }
        }
    }

    private List<Group> groups = List.of();
    private int sequences;

    private AdapterRouting() {}

    /** Replaces every linear layer's adapter with a router reading this routing's groups. */
    public static AdapterRouting install(CausalLM base) {
        AdapterRouting routing = new AdapterRouting();
        for (Linear l : base.linears()) {
            l.setAdapter(new Router(l.name(), routing));
        }
        return routing;
    }

    /**
     * The groups of the next steps: consecutive, covering sequences 0 .. n − 1 of the step in order.
     */
    public void setGroups(List<Group> groups) {
        int next = 0;
        for (Group g : groups) {
            if (g.from() != next) {
                throw new IllegalArgumentException("adapter groups must be consecutive from sequence 0; got " + groups);
            }
            next = g.to();
        }
        this.groups = List.copyOf(groups);
        this.sequences = next;
    }

    /** The adapter slot of one linear layer: adds each group's term to its rows. */
    private record Router(String modulePath, AdapterRouting routing) implements LinearAdapter {
        @Override
        public void forward(Tensor x, Tensor y) {
            int n = routing.sequences;
            if (n == 0 || x.dim(0) % n != 0) {
                throw new IllegalStateException(modulePath + ": " + x.dim(0) + " rows do not split into the "
                        + n + " sequences the adapter groups were set for");
            }
            int rowsPerSequence = x.dim(0) / n;   // the step's length in the blocks, 1 at the head
            for (Group g : routing.groups) {
                LoraLinear lora = g.adapterOrNull() == null ? null : g.adapterOrNull().adapters().get(modulePath);
                if (lora != null) {
                    int from = g.from() * rowsPerSequence;
                    int to = g.to() * rowsPerSequence;
                    lora.forward(x.slice(0, from, to), y.slice(0, from, to));
                }
            }
        }

        @Override
        public void backward(Tensor dy, Tensor x, Tensor dx) {
            throw new UnsupportedOperationException(modulePath + ": routed adapters serve inference only");
        }
    }
}
