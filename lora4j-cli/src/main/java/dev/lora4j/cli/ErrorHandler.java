package dev.lora4j.cli;

import picocli.CommandLine;

/**
 * Turns exceptions from commands into one clear line on stderr instead of a stack trace.
 * Set {@code LORA4J_DEBUG=1} to see the stack trace as well.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cli, CommandLine.ParseResult parsed) {
        String message = ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
        cli.getErr().println("lora4j " + cli.getCommandName() + ": error: " + message);
        if (System.getenv("LORA4J_DEBUG") != null) {
            ex.printStackTrace(cli.getErr());
        }
        return 1;
    }
}
