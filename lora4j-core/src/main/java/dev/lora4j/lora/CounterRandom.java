package dev.lora4j.lora;

/**
 * Stateless, counter-based random numbers: the value for (seed, stream, index) is a fixed hash
 * (SplitMix64's finalizer). Dropout masks drawn this way depend only on the training step and the
 * element, never on how many numbers were drawn before, so a resumed run draws the same masks as an
 * uninterrupted one and results do not depend on thread scheduling.
 */
public final class CounterRandom {
    private CounterRandom() {}

    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A uniform float in [0, 1) for (seed, stream, index). */
    public static float uniform(long seed, long stream, long index) {
        long h = mix(seed + 0x9E3779B97F4A7C15L * (stream + 1));
        h = mix(h ^ (index * 0xD1B54A32D192ED03L));
        return (h >>> 40) * 0x1.0p-24f;
    }
}
