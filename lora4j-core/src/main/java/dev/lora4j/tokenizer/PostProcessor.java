package dev.lora4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Adds the special tokens a model expects around a single sequence (BOS, or [CLS] ... [SEP]). */
@FunctionalInterface
interface PostProcessor {
    int[] addSpecialTokens(int[] ids);

    Set<String> SUPPORTED = Set.of("TemplateProcessing", "BertProcessing", "RobertaProcessing", "ByteLevel", "Sequence");

    static PostProcessor fromJson(JsonFields json) {
        return switch (json.type()) {
            case "TemplateProcessing" -> template(json);
            case "BertProcessing", "RobertaProcessing" -> {
                int cls = tokenPairId(json, "cls");
                int sep = tokenPairId(json, "sep");
                yield ids -> surround(new int[] {cls}, ids, new int[] {sep});
            }
            case "ByteLevel" -> ids -> ids; // only adjusts offsets, which lora4j does not track
            case "Sequence" -> {
                List<PostProcessor> parts = new ArrayList<>();
                for (var p : json.get("processors")) {
                    parts.add(fromJson(JsonFields.of(p, json.source(), "post_processor")));
                }
                yield ids -> {
                    for (PostProcessor part : parts) {
                        ids = part.addSpecialTokens(ids);
                    }
                    return ids;
                };
            }
            default -> throw json.unsupported(SUPPORTED);
        };
    }

    /** The template for a single sequence: special tokens around the one "$A" sequence. */
    private static PostProcessor template(JsonFields json) {
        var specials = json.child("special_tokens", "post_processor special_tokens");
        List<Integer> before = new ArrayList<>();
        List<Integer> after = new ArrayList<>();
        boolean seenSequence = false;
        for (var piece : json.get("single")) {
            JsonFields item = JsonFields.of(piece, json.source(), "post_processor template piece");
            if (item.has("Sequence")) {
                if (seenSequence) {
                    throw item.error("has two sequences in the single-sequence template");
                }
                seenSequence = true;
            } else if (item.has("SpecialToken")) {
                String name = item.child("SpecialToken", "post_processor template piece").text("id");
                if (!specials.has(name)) {
                    throw json.error("template uses special token \"" + name + "\" missing from special_tokens");
                }
                for (var id : specials.child(name, "post_processor special token").get("ids")) {
                    (seenSequence ? after : before).add(id.asInt());
                }
            } else {
                throw item.error("should be {\"SpecialToken\": ...} or {\"Sequence\": ...} but is " + piece);
            }
        }
        int[] prefix = before.stream().mapToInt(Integer::intValue).toArray();
        int[] suffix = after.stream().mapToInt(Integer::intValue).toArray();
        return ids -> surround(prefix, ids, suffix);
    }

    /** Reads ["token", id] as written by BertProcessing and RobertaProcessing. */
    private static int tokenPairId(JsonFields json, String field) {
        var pair = json.get(field);
        if (!pair.isArray() || pair.size() != 2 || !pair.get(1).canConvertToInt()) {
            throw json.error("field \"" + field + "\" should be [\"token\", id] but is " + pair);
        }
        return pair.get(1).asInt();
    }

    private static int[] surround(int[] prefix, int[] ids, int[] suffix) {
        int[] out = new int[prefix.length + ids.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
        return out;
    }
}
