package dev.lora4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code lora4j} command line. */
@Command(
        name = "lora4j",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "LoRA fine-tuning and serving for the JVM, in pure Java.",
        subcommands = {
            SystemInfoCommand.class,
            ImportLlama2cCommand.class,
            EvalCommand.class,
            TrainCommand.class,
            MergeCommand.class,
            CombineCommand.class,
            InspectCommand.class,
            ImportOnnxBertCommand.class,
            GenerateCommand.class,
            ChatCommand.class,
            ServeCommand.class,
            DemoCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        Warmup.startFor(args);
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (for tests). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(new ErrorHandler());
        return cli.execute(args);
    }
}
