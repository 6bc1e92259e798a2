package dev.lora4j.lora;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides which modules of a model get a LoRA adapter, following PEFT's {@code
 * check_target_module_exists}: exclusions first, then modules_to_save (never adapted), then the
 * target selector, then {@code layers_to_transform}.
 *
 * <p>Unlike PEFT, every name in a {@code target_modules} list must match at least one module:
 * a misspelt target is an error listing the module names the model has, not a silently smaller
 * adapter.
 */
public final class TargetResolver {
    private TargetResolver() {}

    /** One module that gets an adapter, with its effective rank and scale. */
    public record Target(ModuleInfo module, int rank, double alpha, double scaling) {}

    public static List<Target> resolve(LoraConfig config, List<ModuleInfo> modules) {
        List<Target> targets = new ArrayList<>();
        for (ModuleInfo m : modules) {
            if (isTarget(config, m)) {
                String p = m.path();
                targets.add(new Target(m, config.rankFor(p), config.alphaFor(p), config.scalingFor(p)));
            }
        }
        checkEveryTargetMatched(config, modules, targets);
        return targets;
    }

    static boolean isTarget(LoraConfig config, ModuleInfo m) {
        String path = m.path();
        if (m.kind() == ModuleInfo.Kind.OTHER) {
            return false;
        }
        if (config.excludeModules() != null && config.excludeModules().matches(path)) {
            return false;
        }
        for (String saved : config.modulesToSave()) {
            if (Pattern.compile("(^|.*\\.)" + saved + "($|\\..*)").matcher(path).matches()) {
                return false;
            }
        }
        ModuleSelector sel = config.targetModules();
        boolean found = switch (sel) {
            case ModuleSelector.AllLinear a -> m.kind() == ModuleInfo.Kind.LINEAR && !m.outputHead();
            case ModuleSelector.Regex r -> r.matches(path);
            case ModuleSelector.Names n -> n.matches(path);
        };
        boolean exactName = sel instanceof ModuleSelector.Names n && n.names().contains(path);
        if (found && !exactName && !config.layersToTransform().isEmpty() && !(sel instanceof ModuleSelector.Regex)) {
            Integer layer = layerIndex(path, config.layersPattern());
            found = layer != null && config.layersToTransform().contains(layer);
        }
        return found;
    }

    /** The first numbered path segment after a layers_pattern (or after any segment when none is given). */
    static Integer layerIndex(String path, List<String> layersPattern) {
        if (layersPattern.isEmpty()) {
            Matcher m = Pattern.compile(".*?\\.[^.]*\\.(\\d+)\\..*").matcher(path);
            return m.matches() ? Integer.valueOf(m.group(1)) : null;
        }
        for (String pattern : layersPattern) {
            Matcher m = Pattern.compile("(?:|.*?\\.)" + pattern + "\\.(\\d+)\\..*").matcher(path);
            if (m.matches()) {
                return Integer.valueOf(m.group(1));
            }
        }
        return null;
    }

    private static void checkEveryTargetMatched(LoraConfig config, List<ModuleInfo> modules, List<Target> targets) {
        ModuleSelector sel = config.targetModules();
        List<String> unmatched = new ArrayList<>();
        switch (sel) {
            case ModuleSelector.Names n -> {
                for (String name : n.names()) {
                    boolean any = targets.stream().anyMatch(t -> ModuleSelector.Names.matchesName(name, t.module().path()));
                    if (!any) {
                        unmatched.add(name);
                    }
                }
            }
            case ModuleSelector.Regex r -> {
                if (targets.isEmpty()) {
                    unmatched.add(r.pattern());
                }
            }
            case ModuleSelector.AllLinear a -> {
                if (targets.isEmpty()) {
                    unmatched.add(ModuleSelector.ALL_LINEAR);
                }
            }
        }
        if (!unmatched.isEmpty()) {
            throw new IllegalArgumentException("target_modules " + unmatched + " matched no module of the model. "
                    + "Module names it has: " + moduleNames(modules));
        }
    }

    /** The distinct last path segments of the adaptable modules, e.g. [embed_tokens, q_proj, ...]. */
    static Set<String> moduleNames(List<ModuleInfo> modules) {
        Set<String> names = new LinkedHashSet<>();
        for (ModuleInfo m : modules) {
            if (m.kind() != ModuleInfo.Kind.OTHER) {
                names.add(m.path().substring(m.path().lastIndexOf('.') + 1));
            }
        }
        return names;
    }
}
