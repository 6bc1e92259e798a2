package dev.lora4j.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Which modules get an adapter, with which rank and scale, must equal PEFT's choice for the same
 * config (goldens from tools/golden/make_lora_target_goldens.py, PEFT 0.21). Scales are compared
 * to 1e-12: both sides compute alpha/r or alpha/√r in double.
 */
class TargetResolverGoldenTest {
    static Stream<Arguments> cases() throws Exception {
        JsonNode root;
        try (InputStream in = TargetResolverGoldenTest.class.getResourceAsStream("/golden/lora/targets.json")) {
            root = new ObjectMapper().readTree(in);
        }
        List<Arguments> out = new ArrayList<>();
        for (String arch : List.of("llama", "gpt2")) {
            JsonNode entry = root.get(arch);
            List<ModuleInfo> modules = new ArrayList<>();
            for (JsonNode m : entry.get("modules")) {
                modules.add(new ModuleInfo(m.get("path").asText(), ModuleInfo.Kind.valueOf(m.get("kind").asText()),
                        m.get("output_head").asBoolean()));
            }
            int i = 0;
            for (JsonNode c : entry.get("cases")) {
                out.add(Arguments.of(arch + "#" + i++ + " " + c.get("config"), modules, c));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void adaptsTheSameModulesAsPeft(String name, List<ModuleInfo> modules, JsonNode golden) {
        LoraConfig config = AdapterConfigJson.parse((ObjectNode) golden.get("config").deepCopy(), w -> {});
        List<TargetResolver.Target> targets = TargetResolver.resolve(config, modules);
        JsonNode expected = golden.get("adapted");
        assertThat(targets.stream().map(t -> t.module().path()).toList())
                .containsExactlyInAnyOrderElementsOf(expected.findValuesAsText("path"));
        for (JsonNode e : expected) {
            TargetResolver.Target t = targets.stream()
                    .filter(x -> x.module().path().equals(e.get("path").asText())).findFirst().orElseThrow();
            assertThat(t.rank()).as(t.module().path()).isEqualTo(e.get("r").asInt());
            assertThat(t.scaling()).as(t.module().path()).isCloseTo(e.get("scaling").asDouble(), within(1e-12));
        }
    }
}
