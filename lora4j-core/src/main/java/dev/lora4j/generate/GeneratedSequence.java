package dev.lora4j.generate;

/**
 * One sequence's output.
 *
 * @param tokens the generated ids (a final stop token included, as transformers returns it)
 * @param text   their text, special tokens left out and cut before a stop string; null without a tokenizer
 * @param finish why generation stopped
 */
public record GeneratedSequence(int[] tokens, String text, FinishReason finish) {}
