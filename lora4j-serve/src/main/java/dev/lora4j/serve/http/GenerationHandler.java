package dev.lora4j.serve.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.chat.ChatMessage;
import dev.lora4j.chat.ChatTemplate;
import dev.lora4j.chat.ChatTemplateException;
import dev.lora4j.chat.PlainTranscript;
import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.PromptIds;
import dev.lora4j.serve.ServedModel;
import dev.lora4j.serve.ServerOptions;
import dev.lora4j.serve.api.ApiError;
import dev.lora4j.serve.api.ChatRequest;
import dev.lora4j.serve.api.CompletionRequest;
import dev.lora4j.serve.api.Json;
import dev.lora4j.serve.api.JsonFields;
import dev.lora4j.serve.api.OpenAiResponses;
import dev.lora4j.serve.api.OpenAiResponses.Origin;
import dev.lora4j.serve.api.SamplingFields;
import dev.lora4j.serve.auth.Caller;
import dev.lora4j.serve.engine.EngineException;
import dev.lora4j.serve.engine.EngineRequest;
import dev.lora4j.serve.engine.Submission;
import dev.lora4j.serve.metrics.ServerMetrics;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: the request becomes prompt
 * ids and a {@link GenerationConfig}, goes to the engine, and its output goes back whole or as a
 * stream. Everything the client got wrong is found before the engine sees the request.
 */
final class GenerationHandler {
    private static final System.Logger LOG = System.getLogger(GenerationHandler.class.getName());
    /** While a stream waits (in the queue, or for a slow prefill), a comment this often finds clients that went away. */
    private static final long KEEP_ALIVE_NANOS = 5_000_000_000L;
    /** What an answered request's metric says when the client went away before the end. */
    static final int CLIENT_CLOSED = 499;

    private final ServedModel model;
    private final ServerOptions options;
    private final ServerMetrics metrics;

    GenerationHandler(ServedModel model, ServerOptions options, ServerMetrics metrics) {
        this.model = model;
        this.options = options;
        this.metrics = metrics;
    }

    int chat(Context ctx, Caller caller, ObjectNode body) throws InterruptedException {
        ChatRequest r = ChatRequest.parse(body);
        String adapter = adapterFor(r.sampling().model(), caller);
        int[] prompt = chatPrompt(r.messages());
        List<String> extraStops = model.chatTemplateOrNull() == null ? List.of(PlainTranscript.STOP) : List.of();
        return generate(ctx, r.sampling(), adapter, prompt, "messages", extraStops, true);
    }

    int completion(Context ctx, Caller caller, ObjectNode body) throws InterruptedException {
        CompletionRequest r = CompletionRequest.parse(body);
        String adapter = adapterFor(r.sampling().model(), caller);
        int[] prompt = r.promptText() != null ? textPrompt(r.promptText()) : checkedIds(r.promptIds());
        return generate(ctx, r.sampling(), adapter, prompt, "prompt", List.of(), false);
    }

    /** null for the base model; the adapter's name when the caller may use it; else 404 as if it did not exist. */
    String adapterFor(String name, Caller caller) {
        if (name.equals(model.name())) {
            return null;
        }
        if (caller.mayUse(name) && model.engine().hasAdapter(name)) {
            return name;
        }
        throw ApiError.unknownModel(JsonFields.abbreviate(name));
    }

    private int[] chatPrompt(List<ChatMessage> messages) {
        ChatTemplate template = model.chatTemplateOrNull();
        if (template == null) {
            return textPrompt(PlainTranscript.render(messages));
        }
        String text;
        try {
            text = template.render(messages, true);
        } catch (ChatTemplateException e) {
            // the template's own words (e.g. "roles must alternate"), without the server's file path
            String m = e.getMessage();
            int at = m.indexOf("chat template: ");
            throw ApiError.invalid("messages", "the model's chat template refused the messages: "
                    + (at >= 0 ? m.substring(at + "chat template: ".length()) : m));
        }
        int[] ids = model.tokenizer().encode(text, false);   // the template writes BOS itself
        if (ids.length == 0) {
            throw ApiError.invalid("messages", "the messages render to an empty prompt");
        }
        return ids;
    }

    private int[] textPrompt(String text) {
        try {
            return PromptIds.encode(model.tokenizer(), text);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("prompt", e.getMessage());
        }
    }

    private int[] checkedIds(int[] ids) {
        int vocab = model.engine().config().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw ApiError.invalid("prompt", "prompt[" + i + "] is token id " + ids[i] + "; this model's ids are 0.." + (vocab - 1));
            }
        }
        return ids;
    }

    private int generate(Context ctx, SamplingFields s, String adapter, int[] prompt, String promptParam, List<String> extraStops,
                         boolean chat) throws InterruptedException {
        GenerationConfig config = config(s, prompt.length, promptParam, extraStops);
        long deadline = System.nanoTime() + options.requestTimeout().toNanos();
        CompletionEvents events = new CompletionEvents(metrics);
        Submission submission;
        try {
            submission = model.engine().submit(new EngineRequest(prompt, adapter, config), events);
        } catch (EngineException e) {
            throw EngineErrors.toApi(e, s.model());
        }
        Origin origin = new Origin((chat ? "chatcmpl-" : "cmpl-") + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()),
                System.currentTimeMillis() / 1000, s.model(), chat);
        return s.stream() ? stream(ctx, events, submission, origin, s.includeUsage(), deadline)
                : whole(ctx, events, submission, origin, deadline);
    }

    /** The request's GenerationConfig, after the checks OpenAI makes against the context length. */
    private GenerationConfig config(SamplingFields s, int promptTokens, String promptParam, List<String> extraStops) {
        if (promptTokens > options.maxPromptTokens()) {
            throw ApiError.invalid(promptParam, "context_length_exceeded", "the prompt is " + promptTokens
                    + " tokens; this server takes at most " + options.maxPromptTokens() + " (lora4j serve --max-prompt-tokens)");
        }
        if (s.maxTokens() != null && s.maxTokens() > options.maxTokensLimit()) {
            throw ApiError.invalid("max_tokens", "max_tokens is " + s.maxTokens() + "; this server allows at most "
                    + options.maxTokensLimit() + " (lora4j serve --max-tokens-limit)");
        }
        int context = model.engine().config().maxPositions();
        int maxTokens = s.maxTokens() != null ? s.maxTokens() : Math.min(options.maxTokensLimit(), context - promptTokens);
        if (maxTokens < 1 || promptTokens + maxTokens > context) {
            String where = promptParam.equals("messages") ? "messages" : "prompt";
            throw ApiError.invalid(promptParam, "context_length_exceeded", "This model's maximum context length is " + context
                    + " tokens. However, you requested " + (promptTokens + Math.max(maxTokens, 1)) + " tokens (" + promptTokens
                    + " in the " + where + ", " + (s.maxTokens() != null ? maxTokens + "" : "at least 1")
                    + " for the completion). Please reduce the length of the " + where + " or completion.");
        }
        List<String> stops = new ArrayList<>(s.stop());
        stops.addAll(extraStops);
        boolean sample = s.temperature() > 0;
        long seed = s.seed() != null ? s.seed() : sample ? ThreadLocalRandom.current().nextLong() : 0;
        return new GenerationConfig(maxTokens, sample, sample ? s.temperature() : 1.0, s.topK(), s.topP(), s.minP(),
                s.repetitionPenalty(), seed, model.stopTokens(), stops);
    }

    private int whole(Context ctx, CompletionEvents events, Submission submission, Origin origin, long deadline)
            throws InterruptedException {
        while (true) {
            CompletionEvents.Event e;
            try {
                e = events.next(deadline - System.nanoTime());
            } catch (InterruptedException stopped) {
                submission.cancel();
                throw stopped;
            }
            switch (e) {
                case null -> {
                    submission.cancel();
                    throw timedOut();
                }
                case CompletionEvents.Text t -> { }
                case CompletionEvents.Finished f when f.reason() == null -> throw cancelledByServer();
                case CompletionEvents.Finished f -> {
                    ObjectNode body = OpenAiResponses.completion(origin, f.text(), f.reason(), f.promptTokens(), f.completionTokens());
                    ctx.status(200).contentType("application/json").result(Json.bytes(body));
                    return 200;
                }
                case CompletionEvents.Failed failed -> {
                    LOG.log(System.Logger.Level.ERROR, "the engine failed a request for " + origin.model(), failed.error());
                    throw ApiError.internal();
                }
            }
        }
    }

    private int stream(Context ctx, CompletionEvents events, Submission submission, Origin origin, boolean includeUsage,
                       long deadline) throws InterruptedException {
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream");
        res.setCharacterEncoding("utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");   // proxies such as nginx would otherwise hold the chunks back
        try {
            SseStream sse = new SseStream(res.getOutputStream());
            if (origin.chat()) {
                sse.send(OpenAiResponses.textChunk(origin, "", true));
            }
            while (true) {
                long left = deadline - System.nanoTime();
                CompletionEvents.Event e = events.next(Math.min(left, KEEP_ALIVE_NANOS));
                switch (e) {
                    case null -> {
                        if (deadline - System.nanoTime() <= 0) {
                            submission.cancel();
                            sse.error(timedOut());
                            sse.done();
                            return 504;
                        }
                        sse.keepAlive();
                    }
                    case CompletionEvents.Text t -> sse.send(OpenAiResponses.textChunk(origin, t.piece(), false));
                    case CompletionEvents.Finished f when f.reason() == null -> {
                        sse.error(cancelledByServer());
                        sse.done();
                        return 503;
                    }
                    case CompletionEvents.Finished f -> {
                        sse.send(OpenAiResponses.finishChunk(origin, f.reason()));
                        if (includeUsage) {
                            sse.send(OpenAiResponses.usageChunk(origin, f.promptTokens(), f.completionTokens()));
                        }
                        sse.done();
                        return 200;
                    }
                    case CompletionEvents.Failed failed -> {
                        LOG.log(System.Logger.Level.ERROR, "the engine failed a streamed request for " + origin.model(), failed.error());
                        sse.error(ApiError.internal());
                        sse.done();
                        return 500;
                    }
                }
            }
        } catch (IOException clientGone) {
            // The client closed the connection (or stopped reading until the idle timeout): free its sequence now.
            submission.cancel();
            return CLIENT_CLOSED;
        } catch (InterruptedException stopped) {
            submission.cancel();
            throw stopped;
        }
    }

    private ApiError timedOut() {
        return ApiError.timeout("the request ran longer than this server's limit of " + options.requestTimeout().toSeconds()
                + " s (lora4j serve --request-timeout) and was cancelled");
    }

    private static ApiError cancelledByServer() {
        return ApiError.draining("the server is shutting down and cancelled the request before it finished");
    }
}
