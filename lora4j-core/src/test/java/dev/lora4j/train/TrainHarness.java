package dev.lora4j.train;

import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * A training run in its own JVM, so a test can kill it outright (SIGKILL, no shutdown hooks).
 * Args: modelDir dataFile outputDir resume(true|false) slowAfterStep. After {@code slowAfterStep}
 * steps each step sleeps, giving the test time to kill the process between checkpoints.
 */
public final class TrainHarness {
    public static final int STEPS = 12;

    public static void main(String[] args) throws Exception {
        Trainer.Result r = run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), Boolean.parseBoolean(args[3]),
                Integer.parseInt(args[4]));
        System.out.println("done " + r.steps());
    }

    static Trainer.Result run(Path model, Path data, Path out, boolean resume, int slowAfterStep) throws Exception {
        try (CausalLM base = Models.load(model)) {
            LoraConfig config = LoraConfig.of(4, 8, ModuleSelector.parseCli("q_proj,v_proj,down_proj"))
                    .withDropout(0.1).withInit(InitLoraWeights.KAIMING);
            LoraModel lora = LoraModel.attach(base, config, 7);
            List<Example> examples = JsonlDataset.read(data, base.config().vocabSize());
            TrainOptions options = new TrainOptions(STEPS, 0, 2, 2, 64, 5e-3, LrSchedule.COSINE, 2, 0.01, 1.0, 7, 0, 3);
            return new Trainer(lora, examples, examples.subList(0, 2), options, out,
                    new PrintStream(OutputStream.nullOutputStream()))
                    .onStep(step -> {
                        if (step >= slowAfterStep) {
                            try {
                                Thread.sleep(60_000);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    })
                    .run(resume);
        }
    }
}
