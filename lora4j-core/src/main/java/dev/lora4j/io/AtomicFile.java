package dev.lora4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that readers see either the old content or the complete new content, never a
 * half-written file: the bytes go to a temporary file in the same directory (same file system), are
 * forced to disk, and the temporary file is then renamed over the target.
 */
public final class AtomicFile {
    private AtomicFile() {}

    /** Writes the content of a file through a channel positioned at 0. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** Writes {@code target} atomically; on any failure the target is untouched and the temp file removed. */
    public static void write(Path target, Content content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                content.writeTo(channel);
                channel.force(true);
            }
            shareable(temp);
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                // Some file systems cannot rename atomically; replacing is the best they offer.
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /**
     * Temporary files and directories are created owner-only (0600/0700); before one is renamed into
     * place it gets the usual permissions of a file a user writes (0644, directories 0755) so that an
     * adapter or checkpoint can be read by others as any other file could. No-op off POSIX.
     */
    public static void shareable(Path path) throws IOException {
        if (!Files.getFileStore(path).supportsFileAttributeView(java.nio.file.attribute.PosixFileAttributeView.class)) {
            return;
        }
        boolean dir = Files.isDirectory(path);
        Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString(dir ? "rwxr-xr-x" : "rw-r--r--"));
    }

    public static void writeBytes(Path target, byte[] bytes) throws IOException {
        write(target, channel -> writeFully(channel, ByteBuffer.wrap(bytes)));
    }

    public static void writeString(Path target, String text) throws IOException {
        writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes all remaining bytes of {@code buffer} (a single channel write may write fewer). */
    public static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
