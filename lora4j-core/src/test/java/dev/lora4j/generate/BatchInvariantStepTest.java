package dev.lora4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.lora.AdapterRouting;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inference steps are batch-invariant to the bit, which is what lets the server batch requests of
 * different lengths and adapters without changing any of them:
 * <ul>
 *   <li>a prompt prefilled in chunks of 3 and 2 tokens ends with the same logits as one prefill;</li>
 *   <li>a decode step over four sequences at different lengths, with two adapters and the base
 *       model routed to their rows, gives each row the logits that sequence gets decoded alone.</li>
 * </ul>
 * Bit equality, not a tolerance: a kernel chosen by the number of rows (the M ≤ 4 streaming
 * product against the blocked GEMM) sums in another order and fails this.
 */
class BatchInvariantStepTest {
    private static final int[][] PROMPTS = {{1, 17, 42, 99, 3, 64, 120, 7, 9}, {1, 5}, {1, 5, 88, 23, 101, 4, 4}, {2, 30, 31, 32, 33}};

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "gpt2_f32"})
    void chunkedPrefillAndMixedDecodeGiveTheBitsOfOneSequenceAlone(String name) {
        try (CausalLM model = Models.load(Paths.get("src/test/resources/golden/models").resolve(name))) {
            List<String> targets = name.startsWith("gpt2") ? List.of("c_attn", "c_fc") : List.of("q_proj", "v_proj", "down_proj");
            LoraModel x = adapter(model, 4, targets, 1);
            LoraModel y = adapter(model, 2, targets.subList(0, 1), 2);
            LoraModel[] adapterOf = {x, x, null, y};
            AdapterRouting routing = AdapterRouting.install(model);
            int layers = model.config().numLayers();
            int width = model.config().numKvHeads() * model.config().headDim();

            List<KvCache.Sequence> alone = new ArrayList<>();
            List<KvCache.Sequence> chunked = new ArrayList<>();
            for (int s = 0; s < PROMPTS.length; s++) {
                int[] p = PROMPTS[s];
                KvCache.Sequence a = new KvCache.Sequence(layers, 32, width);
                KvCache.Sequence c = new KvCache.Sequence(layers, 32, width);
                routing.setGroups(List.of(new AdapterRouting.Group(0, 1, adapterOf[s])));
                float[] whole = step(model, List.of(a), p, 0)[0];
                float[] last = null;
                for (int at = 0; at < p.length; ) {
                    int t = Math.min(p.length - at, at % 2 == 0 ? 3 : 2);
                    if (p.length - at - t == 1) {
                        t++;   // a one-token step would be a decode step
                    }
                    last = step(model, List.of(c), Arrays.copyOfRange(p, at, at + t), at)[0];
                    at += t;
                }
                assertThat(last).as("%s: prompt %d prefilled in chunks", name, s).containsExactly(whole);
                alone.add(a);
                chunked.add(c);
            }

            int[] next = {5, 6, 7, 8};
            float[][] expected = new float[PROMPTS.length][];
            for (int s = 0; s < PROMPTS.length; s++) {
                routing.setGroups(List.of(new AdapterRouting.Group(0, 1, adapterOf[s])));
                expected[s] = step(model, List.of(alone.get(s)), new int[] {next[s]}, PROMPTS[s].length)[0];
            }
            routing.setGroups(List.of(new AdapterRouting.Group(0, 2, x), new AdapterRouting.Group(2, 3, null),
                    new AdapterRouting.Group(3, 4, y)));
            int[] positions = new int[PROMPTS.length];
            for (int s = 0; s < PROMPTS.length; s++) {
                positions[s] = PROMPTS[s].length;
            }
            float[][] batched = decode(model, chunked, next, positions);
            for (int s = 0; s < PROMPTS.length; s++) {
                assertThat(batched[s]).as("%s: sequence %d decoded among four", name, s).containsExactly(expected[s]);
            }
            // The adapters matter: the sequences with the same prompt but other adapters differ.
            assertThat(expected[0]).isNotEqualTo(expected[2]);
        }
    }

    private static LoraModel adapter(CausalLM model, int rank, List<String> targets, long seed) {
        LoraModel lora = LoraModel.detached(model, LoraConfig.of(rank, 2 * rank, new ModuleSelector.Names(targets))
                .withInit(InitLoraWeights.RANDOM));
        SplittableRandom rng = new SplittableRandom(seed);
        lora.allAdapters().forEach(a -> a.initialize(InitLoraWeights.RANDOM, rng.split()));
        return lora;
    }

    /** One step of {@code ids} for a single sequence starting at {@code position}; the last token's logits. */
    private static float[][] step(CausalLM model, List<KvCache.Sequence> seq, int[] ids, int position) {
        int[] positions = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            positions[i] = position + i;
        }
        return rows(model.forwardCached(TokenBatch.of(1, ids.length, ids.clone(), null, positions), KvCache.over(seq)), 1);
    }

    private static float[][] decode(CausalLM model, List<KvCache.Sequence> seqs, int[] ids, int[] positions) {
        return rows(model.forwardCached(TokenBatch.of(seqs.size(), 1, ids.clone(), null, positions.clone()), KvCache.over(seqs)),
                seqs.size());
    }

    private static float[][] rows(Tensor logits, int n) {
        float[][] out = new float[n][];
        for (int b = 0; b < n; b++) {
            out[b] = logits.slice(0, b, b + 1).toFloatArray();
        }
        return out;
    }
}
