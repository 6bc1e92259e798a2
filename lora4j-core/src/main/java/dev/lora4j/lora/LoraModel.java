package dev.lora4j.lora;

import dev.lora4j.model.CausalLM;
import dev.lora4j.nn.Linear;
import dev.lora4j.tensor.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A frozen base model with LoRA adapters attached to the linear layers a {@link LoraConfig}
 * selects (PEFT's LoraModel). The base weights are untouched; only the adapters' A and B are
 * parameters.
 */
public final class LoraModel {
    private final CausalLM base;
    private final LoraConfig config;
    private final Map<String, LoraLinear> adapters;

    private LoraModel(CausalLM base, LoraConfig config, Map<String, LoraLinear> adapters) {
        this.base = base;
        this.config = config;
        this.adapters = adapters;
    }

    /** Attaches freshly initialized adapters (seeded) to every selected layer of {@code base}. */
    public static LoraModel attach(CausalLM base, LoraConfig config, long seed) {
        LoraModel m = attachUninitialized(base, config);
        SplittableRandom rng = new SplittableRandom(seed);
        for (LoraLinear a : m.adapters.values()) {
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
        return new LoraModel(base, config, adaptersFor(base.linears(), config));
    }

    /**
     * Zero-valued adapters, by module path, for the layers among {@code linears} that {@code config}
     * selects (any model's linear layers: a causal LM's, an encoder's), not yet attached.
     */
    public static Map<String, LoraLinear> adaptersFor(List<Linear> linears, LoraConfig config) {
        Map<String, Linear> byName = new LinkedHashMap<>();
        List<ModuleInfo> modules = new ArrayList<>();
        for (Linear l : linears) {
            byName.put(l.name(), l);
            modules.add(new ModuleInfo(l.name(), ModuleInfo.Kind.LINEAR, isOutputHead(l.name())));
        }
        Map<String, LoraLinear> adapters = new LinkedHashMap<>();
        for (TargetResolver.Target t : TargetResolver.resolve(config, modules)) {
            Linear l = byName.get(t.module().path());
            adapters.put(l.name(), new LoraLinear(l.name(), l.inFeatures(), l.outFeatures(), t.rank(), t.scaling(),
                    config.loraDropout()));
        }
        return adapters;
    }

    /**
     * Puts this model's adapters into their base layers' adapter slots (replacing whatever was there:
     * a base layer carries one adapter at a time).
     */
    public void attach() {
        for (Linear l : base.linears()) {
            LoraLinear a = adapters.get(l.name());
            if (a != null) {
                l.setAdapter(a);
            }
        }
    }

    /** True when every adapter of this model sits in its base layer's slot. */
    public boolean attached() {
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

    static boolean isOutputHead(String path) {
        return path.equals("lm_head") || path.endsWith(".lm_head") || path.equals("score") || path.equals("classifier");
    }

    public CausalLM base() {
        return base;
    }

    public LoraConfig config() {
        return config;
    }

    /** Adapters by module path, in model order. */
    public Map<String, LoraLinear> adapters() {
        return Collections.unmodifiableMap(adapters);
    }

    /** Every trainable tensor: A then B of each adapter, in model order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        for (LoraLinear a : adapters.values()) {
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
        for (LoraLinear a : adapters.values()) {
            a.setTraining(training, seed, step);
        }
    }

    /** PEFT's disable_adapter: the base model's outputs until enabled again. */
    public void setAdaptersEnabled(boolean enabled) {
        for (LoraLinear a : adapters.values()) {
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
        for (Linear l : base.linears()) {
            LoraLinear a = adapters.get(l.name());
            if (a != null && l.adapter() == a) {
                l.setAdapter(null);
            }
        }
    }
}
