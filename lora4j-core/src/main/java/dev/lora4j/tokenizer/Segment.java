package dev.lora4j.tokenizer;

/**
 * A piece of text on its way to the model. {@code atInputStart} tells whether it begins at offset 0
 * of the original input, which Metaspace's prepend_scheme "first" looks at.
 */
record Segment(String text, boolean atInputStart) {}
