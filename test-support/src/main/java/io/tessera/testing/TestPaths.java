package io.tessera.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests put files: under the module's {@code target/}, never in the source tree. */
public final class TestPaths {
  private TestPaths() {}

  /** The root for test output ({@code -Dtessera.test.tmp}, else {@code target/test-tmp}). */
  public static Path root() {
    return dir(Path.of(System.getProperty("tessera.test.tmp", "target/test-tmp")));
  }

  /** A fresh, unique folder under {@link #root()}. */
  public static Path newFolder(String prefix) {
    return dir(root().resolve(Names.unique(prefix)));
  }

  private static Path dir(Path p) {
    try {
      return Files.createDirectories(p.toAbsolutePath());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
