package dev.lora4j.cli;

import dev.lora4j.chat.ChatMessage;
import dev.lora4j.chat.ChatTemplate;
import dev.lora4j.chat.PlainTranscript;
import dev.lora4j.generate.GeneratedSequence;
import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.GenerationListener;
import dev.lora4j.generate.Generator;
import dev.lora4j.generate.PromptIds;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * An interactive conversation: each line read from stdin is a user turn; the reply streams to
 * stdout. The conversation is rendered with the model's chat template (tokenizer_config.json) and
 * encoded afresh each turn. A model without a template gets a plain "User:/Assistant:" transcript
 * that stops at the next "\nUser:".
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model interactively, streaming its replies.",
                "Type a message and press Enter; /reset starts over, /exit (or end of input) quits.",
                "Samples at temperature 0.7, top-p 0.9 unless told otherwise (--temperature 0: greedy)."})
final class ChatCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory (config.json, safetensors, tokenizer)")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory to apply")
    Path adapter;

    @Option(names = "--system", paramLabel = "TEXT", description = "system message that opens the conversation")
    String system;

    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    @Override
    public Integer call() throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (CausalLM lm = Models.load(model)) {
            Tokenizer tokenizer = ModelFiles.tokenizer(model);
            ModelFiles.attachAdapter(lm, adapter);
            ChatTemplate template = ChatTemplate.fromModelDirectory(model).orElse(null);
            if (template == null) {
                System.err.println("lora4j chat: " + model + " has no chat template; using a plain User:/Assistant: transcript");
            }
            GenerationConfig config = sampling.config(0.7, 0.9, ModelFiles.stopTokens(lm, tokenizer, model),
                    template == null ? List.of(PlainTranscript.STOP) : List.of());
            Generator generator = new Generator(lm, tokenizer);
            List<ChatMessage> conversation = new ArrayList<>();
            if (system != null) {
                conversation.add(ChatMessage.system(system));
            }
            int turn = 0;
            while (true) {
                System.err.print("> ");
                System.err.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                if (line.strip().equals("/reset")) {
                    conversation.subList(system != null ? 1 : 0, conversation.size()).clear();
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                conversation.add(ChatMessage.user(line));
                int[] prompt = template != null
                        ? tokenizer.encode(template.render(conversation, true), false)   // the template writes BOS itself
                        : PromptIds.encode(tokenizer, PlainTranscript.render(conversation));
                GenerationConfig turnConfig = new GenerationConfig(config.maxNewTokens(), config.sample(), config.temperature(),
                        config.topK(), config.topP(), config.minP(), config.repetitionPenalty(), config.seed() + turn++,
                        config.stopTokenIds(), config.stopStrings());
                GeneratedSequence reply = generator.generate(prompt, turnConfig, new GenerationListener() {
                    private boolean started;

                    @Override
                    public void onText(int sequence, String text) {
                        // a reply often opens with the space or newline that follows "Assistant:"
                        String shown = started ? text : text.stripLeading();
                        started |= !shown.isEmpty();
                        out.print(shown);
                        out.flush();
                    }
                });
                out.println();
                conversation.add(ChatMessage.assistant(reply.text().strip()));
            }
        }
        return 0;
    }
}
