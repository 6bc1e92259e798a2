package dev.lora4j.train;

/**
 * Learning-rate multipliers as transformers' {@code get_*_schedule_with_warmup}: linear warmup
 * from 0 over {@code warmup} steps, then constant, linear decay to 0, or half a cosine to 0 at
 * {@code total} steps. {@code step} counts optimizer steps already taken (0 for the first update).
 */
public enum LrSchedule {
    CONSTANT,
    LINEAR,
    COSINE;

    public double multiplier(long step, long warmup, long total) {
        if (step < warmup) {
            return (double) step / Math.max(1, warmup);
        }
        return switch (this) {
            case CONSTANT -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (total - step) / Math.max(1, total - warmup));
            case COSINE -> {
                double progress = (double) (step - warmup) / Math.max(1, total - warmup);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
        };
    }

    public static LrSchedule parse(String name) {
        try {
            return valueOf(name.strip().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown schedule '" + name + "' (use constant, linear or cosine)");
        }
    }
}
