package dev.lora4j.lora;

import dev.lora4j.model.CausalLM;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Several LoRA adapters over one frozen base model, held under names as PEFT's {@code PeftModel}
 * holds them: at most one is active (sits in the base layers' adapter slots); the others wait,
 * detached, and cost only their own A and B. {@link #disableAll()} gives the base model's outputs.
 */
public final class AdapterSet {
    private final CausalLM base;
    private final Map<String, LoraModel> adapters = new LinkedHashMap<>();
    private String active;

    public AdapterSet(CausalLM base) {
        this.base = base;
    }

    public CausalLM base() {
        return base;
    }

    /** Reads the adapter in {@code dir} under {@code name}; the first one added becomes active. */
    public LoraModel load(String name, Path dir, Consumer<String> warnings) throws IOException {
        checkFreeName(name);
        return add(name, PeftAdapterFiles.read(base, dir, warnings));
    }

    /** Adds an adapter built over this base; the first one added becomes active. */
    public LoraModel add(String name, LoraModel adapter) {
        checkFreeName(name);
        if (adapter.base() != base) {
            throw new IllegalArgumentException("adapter '" + name + "' was built over another base model");
        }
        adapter.detach();
        adapters.put(name, adapter);
        if (active == null) {
            activate(name);
        }
        return adapter;
    }

    /** Makes {@code name} the adapter the base model runs with (and enables it). */
    public void activate(String name) {
        LoraModel next = get(name);
        if (active != null) {
            adapters.get(active).detach();
        }
        next.attach();
        next.setAdaptersEnabled(true);
        active = name;
    }

    /** Detaches every adapter: the base model alone. {@link #activate} brings one back. */
    public void disableAll() {
        if (active != null) {
            adapters.get(active).detach();
        }
        active = null;
    }

    /** Removes {@code name}; when it was active, no adapter is active afterwards. */
    public void delete(String name) {
        LoraModel removed = get(name);
        removed.detach();
        adapters.remove(name);
        if (name.equals(active)) {
            active = null;
        }
    }

    /** The active adapter's name, or null when the base model runs alone. */
    public String activeName() {
        return active;
    }

    public LoraModel get(String name) {
        LoraModel m = adapters.get(name);
        if (m == null) {
            throw new IllegalArgumentException("no adapter named '" + name + "' (loaded: " + adapters.keySet() + ")");
        }
        return m;
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(adapters.keySet());
    }

    private void checkFreeName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("an adapter needs a non-empty name");
        }
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("an adapter named '" + name + "' is already loaded");
        }
    }
}
