package dev.lora4j.serve.auth;

import java.util.Set;

/**
 * Who sent a request, as far as the server cares: which adapters it may use (its tenant) and
 * whether it may load and unload adapters. Every caller may use the base model.
 *
 * @param label          how logs name the caller: the key's line in the keys file, never the key
 * @param adaptersOrNull the adapters it may name; null: every adapter
 * @param admin          may call load_lora_adapter and unload_lora_adapter
 */
public record Caller(String label, Set<String> adaptersOrNull, boolean admin) {
    /** Without a keys file (loopback only): the local user, who may do everything. */
    public static final Caller LOCAL = new Caller("local (no API keys)", null, true);

    public Caller {
        adaptersOrNull = adaptersOrNull == null ? null : Set.copyOf(adaptersOrNull);
    }

    public boolean mayUse(String adapter) {
        return adaptersOrNull == null || adaptersOrNull.contains(adapter);
    }
}
