package dev.lora4j.lora;

import java.util.List;
import java.util.regex.Pattern;

/**
 * How PEFT names a set of modules in {@code target_modules} and {@code exclude_modules}: either a
 * list of names, each matching a module whose full path equals it or ends with {@code "." + name},
 * or one regular expression that must match the whole path, or the shorthand {@code all-linear}.
 */
public sealed interface ModuleSelector {

    /** The shorthand PEFT expands to every linear layer except the output head. */
    String ALL_LINEAR = "all-linear";

    /** True when {@code path} is selected. For {@link AllLinear} the caller also checks the module kind. */
    boolean matches(String path);

    /** A list of module names matched as path suffixes (PEFT's list form). */
    record Names(List<String> names) implements ModuleSelector {
        public Names {
            names = List.copyOf(names);
        }

        @Override
        public boolean matches(String path) {
            for (String name : names) {
                if (matchesName(name, path)) {
                    return true;
                }
            }
            return false;
        }

        /** PEFT: the key equals the name, or ends with "." + name. */
        public static boolean matchesName(String name, String path) {
            return path.equals(name) || path.endsWith("." + name);
        }
    }

    /** A regular expression matched against the whole module path (Python's re.fullmatch). */
    record Regex(String pattern, Pattern compiled) implements ModuleSelector {
        public static Regex of(String pattern) {
            return new Regex(pattern, Pattern.compile(pattern));
        }

        @Override
        public boolean matches(String path) {
            return compiled.matcher(path).matches();
        }
    }

    /** Every linear layer but the output head. */
    record AllLinear() implements ModuleSelector {
        @Override
        public boolean matches(String path) {
            return true;
        }
    }

    /** Parses a comma-separated command-line value: "all-linear", "q_proj,v_proj", or "re:REGEX". */
    static ModuleSelector parseCli(String value) {
        String v = value.strip();
        if (v.equals(ALL_LINEAR)) {
            return new AllLinear();
        }
        if (v.startsWith("re:")) {
            return Regex.of(v.substring(3));
        }
        return new Names(List.of(v.split("\\s*,\\s*")));
    }
}
