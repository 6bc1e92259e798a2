package dev.lora4j.lora;

import dev.lora4j.model.CausalLM;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A weighted combination of adapters over one base into a new adapter, as PEFT's
 * {@code add_weighted_adapter} (peft/tuners/lora/model.py) computes it. With weights w_i and each
 * adapter's scale s_i, per module:
 * <ul>
 *   <li>{@code linear}: A = Σ sign(w_i s_i)·√|w_i s_i|·A_i and B = Σ √|w_i s_i|·B_i. Only an
 *       approximation of Σ w_i·ΔW_i (cross terms B_i·A_j appear); every adapter must have the same rank.
 *   <li>{@code cat}: A stacks the rows w_i s_i·A_i, B stacks the columns B_i, so B·A = Σ w_i·ΔW_i exactly;
 *       the rank is the sum of the adapters' ranks (zero-padded where a module has fewer).
 *   <li>{@code svd}: ΔW = Σ w_i·ΔW_i truncated to the target rank by SVD: B = U_r·Σ_r, A = V_rᵀ.
 * </ul>
 * The new adapter has {@code lora_alpha = r}, so its scale is 1 (PEFT keeps the first adapter's
 * {@code use_rslora}, which would make that scale √r for an rsLoRA input while the factors assume 1;
 * lora4j writes {@code use_rslora: false}). Its {@code target_modules} lists the adapted module paths.
 * Adapters with LoRA on embeddings are refused (PEFT combines those too; lora4j does not yet).
 */
public final class AdapterCombination {
    private AdapterCombination() {}

    public enum Type {
        LINEAR,
        CAT,
        SVD;

        public static Type parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown combination type '" + s + "' (linear, cat or svd)");
            }
        }
    }

    /** The rank PEFT assumes for an adapter: r, or the largest rank_pattern value when larger. */
    static int configRank(LoraConfig c) {
        int r = c.r();
        for (int v : c.rankPattern().values()) {
            r = Math.max(r, v);
        }
        return r;
    }

    /**
     * Combines {@code adapters} (all over {@code base}) into a new, detached adapter over {@code base}.
     *
     * @param svdRank the target rank for {@link Type#SVD}; null for the largest rank of the inputs
     */
    public static LoraModel combine(CausalLM base, List<LoraModel> adapters, List<Double> weights, Type type,
            Integer svdRank) {
        if (adapters.isEmpty() || adapters.size() != weights.size()) {
            throw new IllegalArgumentException("need one weight per adapter, got " + adapters.size() + " adapters and "
                    + weights.size() + " weights");
        }
        if (adapters.size() == 1) {
            type = Type.LINEAR;  // as PEFT: a single adapter is only rescaled
        }
        for (int i = 0; i < adapters.size(); i++) {
            LoraModel a = adapters.get(i);
            if (a.base() != base) {
                throw new IllegalArgumentException("all adapters must be built over the same base model");
            }
            if (!a.embeddingAdapters().isEmpty()) {
                throw new IllegalArgumentException("adapter " + (i + 1) + " has LoRA on embeddings "
                        + a.embeddingAdapters().keySet() + " (lora_embedding_A/B): combining embedding adapters is "
                        + "not supported; combine adapters of linear layers only");
            }
        }
        List<Integer> ranks = adapters.stream().map(a -> configRank(a.config())).toList();
        int newRank = switch (type) {
            case LINEAR -> {
                if (new LinkedHashSet<>(ranks).size() != 1) {
                    throw new IllegalArgumentException("linear combination needs adapters of equal rank, got " + ranks
                            + " (use cat or svd)");
                }
                yield ranks.getFirst();
            }
            case CAT -> ranks.stream().mapToInt(Integer::intValue).sum();
            case SVD -> svdRank != null ? svdRank : ranks.stream().mapToInt(Integer::intValue).max().orElseThrow();
        };
        if (newRank <= 0) {
            throw new IllegalArgumentException("the combined rank must be positive, got " + newRank);
        }

        // Module paths adapted by any input, in model order.
        Set<String> paths = new LinkedHashSet<>();
        base.linears().forEach(l -> {
            for (LoraModel a : adapters) {
                if (a.adapters().containsKey(l.name())) {
                    paths.add(l.name());
                }
            }
        });

        Map<String, Integer> moduleRanks = new LinkedHashMap<>();
        for (String p : paths) {
            moduleRanks.put(p, type == Type.LINEAR ? linearModuleRank(adapters, p) : newRank);
        }
        LoraConfig first = adapters.getFirst().config();
        Map<String, Integer> rankPattern = new LinkedHashMap<>();
        Map<String, Double> alphaPattern = new LinkedHashMap<>();
        moduleRanks.forEach((p, r) -> {
            if (r != newRank) {  // a linear combination keeps a module's own rank; keep its scale at 1 too
                rankPattern.put(java.util.regex.Pattern.quote(p), r);
                alphaPattern.put(java.util.regex.Pattern.quote(p), (double) r);
            }
        });
        LoraConfig config = new LoraConfig(newRank, newRank, first.loraDropout(),
                new ModuleSelector.Names(new ArrayList<>(paths)), null, null, null, rankPattern, alphaPattern, false,
                InitLoraWeights.KAIMING, null, first.fanInFanOut(), first.taskType(), first.baseModelNameOrPath());
        LoraModel combined = LoraModel.detached(base, config);

        for (String p : paths) {
            LoraLinear target = combined.adapters().get(p);
            List<LoraLinear> present = new ArrayList<>();
            List<Double> w = new ArrayList<>();
            for (int i = 0; i < adapters.size(); i++) {
                LoraLinear a = adapters.get(i).adapters().get(p);
                if (a != null) {
                    present.add(a);
                    w.add(weights.get(i));
                }
            }
            switch (type) {
                case LINEAR -> linear(present, w, target);
                case CAT -> cat(present, w, target);
                case SVD -> svd(present, w, target);
            }
        }
        return combined;
    }

    private static int linearModuleRank(List<LoraModel> adapters, String path) {
        Set<Integer> r = new LinkedHashSet<>();
        for (LoraModel a : adapters) {
            LoraLinear l = a.adapters().get(path);
            if (l != null) {
                r.add(l.rank());
            }
        }
        if (r.size() != 1) {
            throw new IllegalArgumentException("linear combination: module " + path + " has ranks " + r
                    + " in the adapters (use cat or svd)");
        }
        return r.iterator().next();
    }

    private static void linear(List<LoraLinear> present, List<Double> weights, LoraLinear target) {
        float[] a = target.loraA().value();
        float[] b = target.loraB().value();
        double[] sumA = new double[a.length];
        double[] sumB = new double[b.length];
        for (int i = 0; i < present.size(); i++) {
            LoraLinear src = present.get(i);
            double ws = weights.get(i) * src.scaling();
            double root = Math.sqrt(Math.abs(ws));
            double signed = ws >= 0 ? root : -root;  // the sign goes on A only, or it would cancel
            float[] ai = src.loraA().value();
            float[] bi = src.loraB().value();
            for (int j = 0; j < a.length; j++) {
                sumA[j] += signed * ai[j];
            }
            for (int j = 0; j < b.length; j++) {
                sumB[j] += root * bi[j];
            }
        }
        for (int j = 0; j < a.length; j++) {
            a[j] = (float) sumA[j];
        }
        for (int j = 0; j < b.length; j++) {
            b[j] = (float) sumB[j];
        }
    }

    private static void cat(List<LoraLinear> present, List<Double> weights, LoraLinear target) {
        int in = target.inFeatures();
        int out = target.outFeatures();
        int rank = target.rank();
        float[] a = target.loraA().value();
        float[] b = target.loraB().value();
        int row = 0;
        for (int i = 0; i < present.size(); i++) {
            LoraLinear src = present.get(i);
            float ws = (float) (weights.get(i) * src.scaling());
            int r = src.rank();
            float[] ai = src.loraA().value();
            float[] bi = src.loraB().value();
            for (int k = 0; k < r; k++) {
                for (int j = 0; j < in; j++) {
                    a[(row + k) * in + j] = ai[k * in + j] * ws;
                }
                for (int o = 0; o < out; o++) {
                    b[o * rank + row + k] = bi[o * r + k];
                }
            }
            row += r;
        }
    }

    private static void svd(List<LoraLinear> present, List<Double> weights, LoraLinear target) {
        int in = target.inFeatures();
        int out = target.outFeatures();
        int rank = target.rank();
        if (rank > Math.min(in, out)) {
            throw new IllegalArgumentException("svd rank " + rank + " exceeds the size of module "
                    + target.modulePath() + " (" + in + " -> " + out + ")");
        }
        // Σ w_i s_i B_i A_i as one product L·R with L = [w_1 s_1 B_1 | w_2 s_2 B_2 | ...] and R = [A_1; A_2; ...].
        int k = present.stream().mapToInt(LoraLinear::rank).sum();
        double[] l = new double[out * k];
        double[] r = new double[k * in];
        int col = 0;
        for (int i = 0; i < present.size(); i++) {
            LoraLinear src = present.get(i);
            double ws = weights.get(i) * src.scaling();
            int ri = src.rank();
            float[] ai = src.loraA().value();
            float[] bi = src.loraB().value();
            for (int o = 0; o < out; o++) {
                for (int t = 0; t < ri; t++) {
                    l[o * k + col + t] = ws * bi[o * ri + t];
                }
            }
            for (int t = 0; t < ri; t++) {
                for (int j = 0; j < in; j++) {
                    r[(col + t) * in + j] = ai[t * in + j];
                }
            }
            col += ri;
        }
        SmallSvd.Factors f = SmallSvd.truncatedProduct(l, r, out, k, in, rank);
        float[] a = target.loraA().value();
        float[] b = target.loraB().value();
        for (int j = 0; j < a.length; j++) {
            a[j] = (float) f.a()[j];
        }
        for (int j = 0; j < b.length; j++) {
            b[j] = (float) f.b()[j];
        }
    }
}
