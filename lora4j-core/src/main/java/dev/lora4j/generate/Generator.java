package dev.lora4j.generate;

import dev.lora4j.model.CausalLM;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import dev.lora4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Autoregressive generation with a KV cache, for one or several prompts at once.
 *
 * <p>The prompts are left-padded to the longest (padding masked out of attention, positions
 * cumsum(mask) − 1, so each prompt is computed exactly as it would be alone) and run in one prefill
 * step; then each decode step feeds every sequence's last token at its next position and reads the
 * next-token logits. A sequence that has finished keeps being fed (the batch advances together)
 * but its output is frozen; generation ends when every sequence has finished.
 */
public final class Generator {
    private final CausalLM model;
    private final Tokenizer tokenizer;

    /** @param tokenizerOrNull needed for text output and stop strings; without it only ids come out */
    public Generator(CausalLM model, Tokenizer tokenizerOrNull) {
        this.model = model;
        this.tokenizer = tokenizerOrNull;
    }

    /** Prefill and decode timings of the last {@link #generate} call, in nanoseconds. */
    public record Timing(long prefillNanos, int prefillTokens, long decodeNanos, int decodeSteps) {}

    private Timing lastTiming;

    public Timing lastTiming() {
        return lastTiming;
    }

    public GeneratedSequence generate(int[] prompt, GenerationConfig config, GenerationListener listener) {
        return generate(List.of(prompt), config, listener).get(0);
    }

    public List<GeneratedSequence> generate(List<int[]> prompts, GenerationConfig config, GenerationListener listener) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts to generate from");
        }
        if (tokenizer == null && !config.stopStrings().isEmpty()) {
            throw new IllegalArgumentException("stop strings need a tokenizer to turn ids into text");
        }
        int batch = prompts.size();
        int vocab = model.config().vocabSize();
        int promptLength = 0;
        for (int i = 0; i < batch; i++) {
            int[] p = prompts.get(i);
            if (p.length == 0) {
                throw new IllegalArgumentException("prompt " + i + " is empty: start it with at least one token (e.g. BOS)");
            }
            for (int id : p) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("prompt " + i + ": token id " + id + " is outside the vocabulary [0, "
                            + vocab + ")");
                }
            }
            promptLength = Math.max(promptLength, p.length);
        }
        int maxPositions = model.config().maxPositions();
        // Every generated token but the last is fed back, and none at or past the model's last position.
        KvCache cache = model.newKvCache(batch, promptLength + Math.min(config.maxNewTokens(), maxPositions));

        TokenChooser chooser = new TokenChooser(config);
        int[] nextPosition = new int[batch];
        boolean[][] seen = new boolean[batch][vocab];
        List<List<Integer>> generated = new ArrayList<>();
        TextStream[] texts = new TextStream[batch];
        FinishReason[] finished = new FinishReason[batch];
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b);
            nextPosition[b] = p.length;
            for (int id : p) {
                seen[b][id] = true;
            }
            generated.add(new ArrayList<>());
            if (tokenizer != null) {
                texts[b] = new TextStream(tokenizer, p, config.stopStrings());
            }
        }

        long started = System.nanoTime();
        Tensor logits = model.forwardCached(leftPaddedPrompts(prompts, promptLength), cache);
        long prefillDone = System.nanoTime();
        float[] row = new float[vocab];
        int[] step = new int[batch];
        int decodeSteps = 0;
        for (int n = 0; ; n++) {
            int active = 0;
            for (int b = 0; b < batch; b++) {
                if (finished[b] != null) {
                    continue;   // fed its last token again; the output is frozen
                }
                logits.readRow(b, row);
                int id = chooser.choose(row, seen[b]);
                step[b] = id;
                seen[b][id] = true;
                generated.get(b).add(id);
                listener.onToken(b, id);
                if (config.stopTokenIds().contains(id)) {
                    finished[b] = FinishReason.STOP_TOKEN;
                } else if (texts[b] != null) {
                    String piece = texts[b].add(id);
                    if (!piece.isEmpty()) {
                        listener.onText(b, piece);
                    }
                    if (texts[b].stopped()) {
                        finished[b] = FinishReason.STOP_STRING;
                    }
                }
                if (finished[b] == null && (n + 1 == config.maxNewTokens() || nextPosition[b] >= maxPositions)) {
                    finished[b] = FinishReason.LENGTH;
                }
                if (finished[b] != null) {
                    finish(b, finished[b], texts[b], listener);
                } else {
                    active++;
                }
            }
            if (active == 0) {
                break;
            }
            logits = model.forwardCached(decodeStep(step, nextPosition, maxPositions), cache);
            decodeSteps++;
            for (int b = 0; b < batch; b++) {
                nextPosition[b]++;
            }
        }
        long done = System.nanoTime();
        int prefillTokens = 0;
        for (int[] p : prompts) {
            prefillTokens += p.length;
        }
        lastTiming = new Timing(prefillDone - started, prefillTokens, done - prefillDone, decodeSteps);

        List<GeneratedSequence> out = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            int[] ids = generated.get(b).stream().mapToInt(Integer::intValue).toArray();
            out.add(new GeneratedSequence(ids, texts[b] != null ? texts[b].text() : null, finished[b]));
        }
        return out;
    }

    private static void finish(int b, FinishReason reason, TextStream text, GenerationListener listener) {
        if (text != null) {
            String rest = text.finish();
            if (!rest.isEmpty()) {
                listener.onText(b, rest);
            }
        }
        listener.onFinish(b, reason);
    }

    /** The prompts right-aligned in one [batch, length] step, padding masked, positions counting real tokens. */
    static TokenBatch leftPaddedPrompts(List<int[]> prompts, int length) {
        int batch = prompts.size();
        int[] ids = new int[batch * length];
        int[] mask = new int[batch * length];
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b);
            int pad = length - p.length;
            System.arraycopy(p, 0, ids, b * length + pad, p.length);
            Arrays.fill(mask, b * length + pad, (b + 1) * length, 1);
        }
        return new TokenBatch(batch, length, ids, mask, TokenBatch.leftPaddedPositions(batch, length, mask));
    }

    /**
     * One token per sequence at its next position. A finished sequence is still fed (its position
     * held inside the model's range); its logits are never read.
     */
    private static TokenBatch decodeStep(int[] tokens, int[] nextPosition, int maxPositions) {
        int batch = tokens.length;
        int[] mask = new int[batch];
        Arrays.fill(mask, 1);
        int[] positions = new int[batch];
        for (int b = 0; b < batch; b++) {
            positions[b] = Math.min(nextPosition[b], maxPositions - 1);
        }
        return new TokenBatch(batch, 1, tokens.clone(), mask, positions);
    }

}
