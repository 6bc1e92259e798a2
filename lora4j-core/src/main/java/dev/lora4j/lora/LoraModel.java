package dev.lora4j.lora;

import dev.lora4j.model.CausalLM;
import dev.lora4j.nn.Embedding;
import dev.lora4j.nn.Linear;
import dev.lora4j.tensor.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A frozen base model with LoRA adapters attached to the linear and embedding layers a
 * {@link LoraConfig} selects (PEFT's LoraModel). The base weights are untouched; only the adapters'
 * A and B are parameters.
 */
public final class LoraModel {
    private final CausalLM base;
    private final LoraConfig config;
    private final Map<String, LoraLinear> adapters;
    private final Map<String, LoraEmbedding> embeddingAdapters;

    private LoraModel(CausalLM base, LoraConfig config, Map<String, LoraLinear> adapters,
            Map<String, LoraEmbedding> embeddingAdapters) {
        this.base = base;
        this.config = config;
        this.adapters = adapters;
        this.embeddingAdapters = embeddingAdapters;
    }

    /** Attaches freshly initialized adapters (seeded) to every selected layer of {@code base}. */
    public static LoraModel attach(CausalLM base, LoraConfig config, long seed) {
        LoraModel m = attachUninitialized(base, config);
        SplittableRandom rng = new SplittableRandom(seed);
        for (LoraAdapter a : m.allAdapters()) {
            a.initialize(config.initLoraWeights(), rng.split());
        }
        return m;
    }

    /** Attaches adapters whose values are to be loaded (all zero until then). */
    public static LoraModel attachUninitialized(CausalLM base, LoraConfig config) {
        LoraModel m = detached(base, config);
        m.attach();
        return m;
    }

    /**
     * Builds zero-valued adapters for the layers {@code config} selects without attaching them, so
     * several adapters can be held over one base and swapped in ({@link AdapterSet}).
     */
    public static LoraModel detached(CausalLM base, LoraConfig config) {
        Map<String, LoraLinear> linear = new LinkedHashMap<>();
        Map<String, LoraEmbedding> embedding = new LinkedHashMap<>();
        resolve(base.embeddings(), base.linears(), config, embedding, linear);
        return new LoraModel(base, config, linear, embedding);
    }

    /**
     * Zero-valued adapters, by module path, for the layers among {@code linears} that {@code config}
     * selects (any model's linear layers: a causal LM's, an encoder's), not yet attached.
     */
    public static Map<String, LoraLinear> adaptersFor(List<Linear> linears, LoraConfig config) {
        Map<String, LoraLinear> adapters = new LinkedHashMap<>();
        resolve(List.of(), linears, config, new LinkedHashMap<>(), adapters);
        return adapters;
    }

    /**
     * Resolves the targets among all of a model's embeddings and linear layers at once (a target name
     * must match some module of either kind) and builds one zero-valued adapter per target.
     */
    private static void resolve(List<Embedding> embeddings, List<Linear> linears, LoraConfig config,
            Map<String, LoraEmbedding> embeddingOut, Map<String, LoraLinear> linearOut) {
        Map<String, Embedding> embeddingByName = new LinkedHashMap<>();
        Map<String, Linear> linearByName = new LinkedHashMap<>();
        List<ModuleInfo> modules = new ArrayList<>();
        for (Embedding e : embeddings) {
            embeddingByName.put(e.name(), e);
            modules.add(new ModuleInfo(e.name(), ModuleInfo.Kind.EMBEDDING, false));
        }
        for (Linear l : linears) {
            linearByName.put(l.name(), l);
            modules.add(new ModuleInfo(l.name(), ModuleInfo.Kind.LINEAR, isOutputHead(l.name())));
        }
        for (TargetResolver.Target t : TargetResolver.resolve(config, modules)) {
            String path = t.module().path();
            if (t.module().kind() == ModuleInfo.Kind.EMBEDDING) {
                Embedding e = embeddingByName.get(path);
                embeddingOut.put(path, new LoraEmbedding(path, e.numEmbeddings(), e.dim(), t.rank(), t.scaling(),
                        e.paddingIdx()));
            } else {
                Linear l = linearByName.get(path);
                linearOut.put(path, new LoraLinear(path, l.inFeatures(), l.outFeatures(), t.rank(), t.scaling(),
                        config.loraDropout()));
            }
        }
    }

    /**
     * Puts this model's adapters into their base layers' adapter slots (replacing whatever was there:
     * a base layer carries one adapter at a time).
     */
    public void attach() {
        for (Embedding e : base.embeddings()) {
            LoraEmbedding a = embeddingAdapters.get(e.name());
            if (a != null) {
                e.setAdapter(a);
            }
        }
        for (Linear l : base.linears()) {
            LoraLinear a = adapters.get(l.name());
            if (a != null) {
                l.setAdapter(a);
            }
        }
    }

    /** True when every adapter of this model sits in its base layer's slot. */
    public boolean attached() {
        for (Embedding e : base.embeddings()) {
            LoraEmbedding a = embeddingAdapters.get(e.name());
            if (a != null && e.adapter() != a) {
                return false;
            }
        }
        for (Linear l : base.linears()) {
            LoraLinear a = adapters.get(l.name());
            if (a != null && l.adapter() != a) {
                return false;
            }
        }
        return true;
    }

    /** The base layer an adapter belongs to. */
    public Linear baseLayer(String modulePath) {
        for (Linear l : base.linears()) {
            if (l.name().equals(modulePath)) {
                return l;
            }
        }
        throw new IllegalArgumentException("no linear layer '" + modulePath + "' in the base model");
    }

    /** The base embedding an embedding adapter belongs to. */
    public Embedding baseEmbedding(String modulePath) {
        for (Embedding e : base.embeddings()) {
            if (e.name().equals(modulePath)) {
                return e;
            }
        }
        throw new IllegalArgumentException("no embedding '" + modulePath + "' in the base model");
    }

    static boolean isOutputHead(String path) {
        return path.equals("lm_head") || path.endsWith(".lm_head") || path.equals("score") || path.equals("classifier");
    }

    public CausalLM base() {
        return base;
    }

    public LoraConfig config() {
        return config;
    }

    /** Adapters on linear layers by module path, in model order. */
    public Map<String, LoraLinear> adapters() {
        return Collections.unmodifiableMap(adapters);
    }

    /** Adapters on embeddings by module path, in model order. */
    public Map<String, LoraEmbedding> embeddingAdapters() {
        return Collections.unmodifiableMap(embeddingAdapters);
    }

    /** Every adapter in model order: the embeddings (which come first in the module tree), then the linear layers. */
    public List<LoraAdapter> allAdapters() {
        List<LoraAdapter> all = new ArrayList<>(embeddingAdapters.values());
        all.addAll(adapters.values());
        return all;
    }

    /** Every trainable tensor: A then B of each adapter, in model order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        for (LoraAdapter a : allAdapters()) {
            ps.addAll(a.parameters());
        }
        return ps;
    }

    public long trainableParameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.size();
        }
        return n;
    }

    public void setTraining(boolean training, long seed, long step) {
        for (LoraAdapter a : allAdapters()) {
            a.setTraining(training, seed, step);
        }
    }

    /** PEFT's disable_adapter: the base model's outputs until enabled again. */
    public void setAdaptersEnabled(boolean enabled) {
        for (LoraAdapter a : allAdapters()) {
            a.setEnabled(enabled);
        }
    }

    public void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Detaches this model's adapters from the base model (layers holding another adapter are left alone). */
    public void detach() {
        for (Embedding e : base.embeddings()) {
            LoraEmbedding a = embeddingAdapters.get(e.name());
            if (a != null && e.adapter() == a) {
                e.setAdapter(null);
            }
        }
        for (Linear l : base.linears()) {
            LoraLinear a = adapters.get(l.name());
            if (a != null && l.adapter() == a) {
                l.setAdapter(null);
            }
        }
    }
}
