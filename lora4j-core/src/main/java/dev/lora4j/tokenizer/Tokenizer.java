package dev.lora4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Text to token ids and back.
 *
 * <p>Implementations: {@link HfTokenizer} (Hugging Face {@code tokenizer.json}: byte-level BPE,
 * SentencePiece-style BPE with byte fallback, WordPiece) and {@link Llama2cTokenizer} (llama2.c's
 * {@code tokenizer.bin}).
 */
public interface Tokenizer {

    /**
     * Loads a tokenizer from a {@code tokenizer.json}, a llama2.c tokenizer ({@code *.bin}), or a
     * directory holding a {@code tokenizer.json} (and optionally {@code tokenizer_config.json}).
     */
    static Tokenizer fromFile(Path path) {
        if (Files.isDirectory(path)) {
            Path json = path.resolve("tokenizer.json");
            if (!Files.isRegularFile(json)) {
                throw new TokenizerFormatException(path, "directory has no tokenizer.json");
            }
            return HfTokenizer.load(json);
        }
        if (!Files.isRegularFile(path)) {
            throw new UncheckedIOException(new IOException("tokenizer file not found: " + path));
        }
        if (path.getFileName().toString().endsWith(".bin")) {
            return Llama2cTokenizer.load(path);
        }
        return HfTokenizer.load(path);
    }

    /** Token ids of {@code text}; with {@code addSpecialTokens} the post-processor's BOS/CLS/SEP are added. */
    int[] encode(String text, boolean addSpecialTokens);

    /** Text of {@code ids}; with {@code skipSpecialTokens} special tokens (BOS, EOS, ...) are left out. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** An incremental decoder for generated ids that never emits half a character. */
    default StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    /** One more than the largest token id, so the size an embedding table needs. */
    int vocabSize();

    /** The id of a token given by its vocabulary string (e.g. {@code "<s>"}, {@code "Ġthe"}, {@code "##s"}). */
    OptionalInt tokenId(String token);

    /** The vocabulary string of a token id, if the id is in the vocabulary. */
    Optional<String> token(int id);

    /** Whether {@code id} is a special token (skipped by {@code decode(ids, true)}). */
    boolean isSpecial(int id);

    OptionalInt bosId();

    OptionalInt eosId();
}
