package dev.lora4j.serve.engine;

import dev.lora4j.lora.AdapterConfigJson;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The adapters the server knows, and the few it holds in memory.
 *
 * <p>An adapter is known by name: registered with its directory (the command line, the admin
 * API), or found as {@code <adapter root>/<name>/}. Its weights are read on first use and stay in a
 * bounded set of loaded adapters; when the set is full the least recently used adapter that no
 * running request holds is let go (it is read again if asked for again). Requests hold their
 * adapter from admission to finish ({@link #acquire} / {@link #release}), so an adapter is never
 * freed under a running request, also when it is unloaded: it then stays until its last request ends.
 * All methods are called from request threads and the engine thread; they synchronize on the store.
 */
final class AdapterStore {
    private static final Logger LOG = Logger.getLogger(AdapterStore.class.getName());

    /** One known adapter: where it lives, and its weights while loaded. */
    static final class Entry {
        final String name;
        final Path dir;
        LoraModel weights;
        int users;
        long lastUse;
        boolean registered;
        boolean removed;

        Entry(String name, Path dir, boolean registered) {
            this.name = name;
            this.dir = dir;
            this.registered = registered;
        }

        LoraModel weights() {
            return weights;
        }
    }

    private final CausalLM base;
    private final Path root;       // real path, or null
    private final int capacity;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private long clock;

    AdapterStore(CausalLM base, Path rootOrNull, int capacity) {
        this.base = base;
        this.capacity = capacity;
        if (rootOrNull == null) {
            this.root = null;
        } else {
            try {
                this.root = rootOrNull.toRealPath();
            } catch (IOException e) {
                throw new UncheckedIOException("adapter root " + rootOrNull + " does not exist", e);
            }
            if (!Files.isDirectory(root)) {
                throw new IllegalArgumentException("adapter root " + rootOrNull + " is not a directory");
            }
        }
    }

    /** Registers the adapter in {@code dir} under {@code name} and loads it now (errors surface now). */
    void register(String name, Path dir) {
        checkName(name);
        synchronized (this) {
            refuseTaken(name);
        }
        Entry e = new Entry(name, dir.toAbsolutePath().normalize(), true);
        e.weights = read(e);   // outside the lock: the engine thread releases adapters meanwhile
        synchronized (this) {
            refuseTaken(name);
            e.lastUse = ++clock;
            entries.put(name, e);
            evictBeyondCapacity();
        }
    }

    private void refuseTaken(String name) {
        Entry existing = entries.get(name);
        if (existing != null && !existing.removed && existing.registered) {
            throw new EngineException.BadAdapter("an adapter named '" + name + "' is already loaded; unload it first", null);
        }
    }

    /** The admin API's load: the path must resolve inside the adapter root. */
    void registerUnderRoot(String name, String path) {
        if (root == null) {
            throw new EngineException.BadAdapter("this server was started without --adapter-root, so adapters cannot be "
                    + "loaded through the API", null);
        }
        Path real;
        try {
            Path p = Path.of(path);
            real = (p.isAbsolute() ? p : root.resolve(p)).toRealPath();
        } catch (InvalidPathException | IOException e) {
            throw new EngineException.BadAdapter("lora_path '" + path + "' does not exist under the adapter root", null);
        }
        if (!real.startsWith(root)) {
            throw new EngineException.BadAdapter("lora_path '" + path + "' resolves outside the adapter root", null);
        }
        register(name, real);
    }

    /** Forgets a registered adapter, or lets go of a loaded one found under the root. False when neither. */
    synchronized boolean unregister(String name) {
        Entry e = entries.get(name);
        if (e == null || e.removed) {
            return false;
        }
        e.removed = true;
        if (e.users == 0) {
            entries.remove(name);
        }
        return true;
    }

    /** Known adapter names: registered ones and the adapter directories under the root. */
    synchronized List<String> names() {
        TreeSet<String> names = new TreeSet<>();
        for (Entry e : entries.values()) {
            if (!e.removed) {
                names.add(e.name);
            }
        }
        if (root != null) {
            try (Stream<Path> dirs = Files.list(root)) {
                dirs.map(d -> d.getFileName().toString())
                        .filter(name -> underRoot(name) != null)
                        .forEach(names::add);
            } catch (IOException e) {
                LOG.warning("cannot list the adapter root " + root + ": " + e.getMessage());
            }
        }
        return new ArrayList<>(names);
    }

    synchronized boolean contains(String name) {
        Entry e = entries.get(name);
        return (e != null && !e.removed) || underRoot(name) != null;
    }

    /**
     * The adapter for a new request, read from its files if it is not in memory; the request holds it
     * until {@link #release}. Files are read outside the store's lock, so the engine thread, which
     * releases adapters between steps, never waits for a disk.
     */
    Entry acquire(String name) {
        Entry e;
        synchronized (this) {
            e = entries.get(name);
            if (e == null || e.removed) {
                Path dir = underRoot(name);
                if (dir == null) {
                    throw new EngineException.UnknownAdapter("the model '" + name + "' does not exist");
                }
                e = new Entry(name, dir, false);
                entries.put(name, e);
            }
            if (e.weights != null) {
                return pin(e);
            }
            e.users++;   // held while its files are read, so nothing lets go of the entry meanwhile
        }
        LoraModel weights;
        try {
            weights = read(e);
        } catch (EngineException.BadAdapter failure) {
            synchronized (this) {
                e.users--;
                if (!e.registered && e.users == 0) {
                    entries.remove(name, e);
                }
            }
            throw failure;
        }
        synchronized (this) {
            e.users--;
            if (e.weights == null) {
                e.weights = weights;
            }
            return pin(e);
        }
    }

    private Entry pin(Entry e) {
        e.users++;
        e.lastUse = ++clock;
        evictBeyondCapacity();
        return e;
    }

    synchronized void release(Entry e) {
        e.users--;
        if (e.users == 0 && e.removed) {
            entries.remove(e.name, e);
            e.weights = null;
        }
        evictBeyondCapacity();
    }

    synchronized int loadedCount() {
        int n = 0;
        for (Entry e : entries.values()) {
            if (e.weights != null) {
                n++;
            }
        }
        return n;
    }

    /** Bytes of adapter weights held in memory (values only: served adapters have no gradients). */
    synchronized long loadedBytes() {
        long bytes = 0;
        for (Entry e : entries.values()) {
            if (e.weights != null) {
                for (var p : e.weights.parameters()) {
                    bytes += 4L * p.size();
                }
            }
        }
        return bytes;
    }

    /** Reads an adapter's files and checks it fits the base model and the server. */
    private LoraModel read(Entry e) {
        List<String> warnings = new ArrayList<>();
        LoraModel model;
        try {
            model = PeftAdapterFiles.read(base, e.dir, warnings::add);
        } catch (IOException | RuntimeException failure) {
            throw new EngineException.BadAdapter("adapter '" + e.name + "' cannot be used with this model: "
                    + failure.getMessage(), failure);
        }
        if (!model.embeddingAdapters().isEmpty()) {
            throw new EngineException.BadAdapter("adapter '" + e.name + "' adapts embeddings "
                    + model.embeddingAdapters().keySet() + "; the server runs LoRA on linear layers only", null);
        }
        for (String w : warnings) {
            LOG.info("adapter '" + e.name + "': " + w);
        }
        return model;
    }

    /** Lets go of the least recently used loaded adapters that no request holds, down to the capacity. */
    private void evictBeyondCapacity() {
        while (loadedCount() > capacity) {
            Entry victim = null;
            for (Entry e : entries.values()) {
                if (e.weights != null && e.users == 0 && (victim == null || e.lastUse < victim.lastUse)) {
                    victim = e;
                }
            }
            if (victim == null) {
                return;   // every loaded adapter is in use: over capacity until some requests end
            }
            victim.weights = null;
            if (!victim.registered) {
                entries.remove(victim.name);
            }
        }
    }

    /** {@code <root>/<name>} when it holds an adapter and the name is a plain directory name. */
    private Path underRoot(String name) {
        if (root == null || !isPlainName(name)) {
            return null;
        }
        Path dir = root.resolve(name);
        try {
            if (!Files.isRegularFile(dir.resolve(AdapterConfigJson.FILE_NAME))
                    || !Files.isRegularFile(dir.resolve(PeftAdapterFiles.WEIGHTS_FILE))) {
                return null;
            }
            Path real = dir.toRealPath();
            return real.startsWith(root) ? real : null;   // a symbolic link out of the root is not found
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isPlainName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0
                && name.indexOf('\\') < 0 && name.indexOf('\0') < 0;
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new EngineException.BadAdapter("an adapter name must be 1 to 200 characters, not blank", null);
        }
    }
}
