package dev.lora4j.nn;

import dev.lora4j.tensor.Tensor;

/**
 * Token (or learned position) embedding: row {@code ids[r]} of a frozen table [num, dim], widened to
 * F32. The table stays in its stored dtype; nothing is copied but the looked-up rows.
 */
public final class Embedding {
    private final String name;
    private final Tensor table;
    private Tensor output;

    public Embedding(String name, Tensor table) {
        if (table.rank() != 2) {
            throw new IllegalArgumentException(name + ": embedding table must be a matrix, got " + table);
        }
        this.name = name;
        this.table = table;
    }

    public String name() {
        return name;
    }

    public Tensor table() {
        return table;
    }

    public int numEmbeddings() {
        return table.dim(0);
    }

    public int dim() {
        return table.dim(1);
    }

    /** out [ids.length, dim] = table[ids], in this layer's output buffer. */
    public Tensor forward(int[] ids) {
        output = Buffers.reuse(output, ids.length, dim());
        forward(ids, output, false);
        return output;
    }

    /** out[r] (+)= table[ids[r]]; an id outside the table is an error naming the row and the id. */
    public void forward(int[] ids, Tensor out, boolean accumulate) {
        int d = dim();
        for (int r = 0; r < ids.length; r++) {
            int id = ids[r];
            if (id < 0 || id >= numEmbeddings()) {
                throw new IllegalArgumentException(name + ": id " + id + " at row " + r + " is outside [0, "
                        + numEmbeddings() + ")");
            }
            Tensor row = table.select(0, id);
            for (int c = 0; c < d; c++) {
                float v = row.getFlat(c);
                out.set(accumulate ? out.get(r, c) + v : v, r, c);
            }
        }
    }
}
