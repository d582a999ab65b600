package io.tessera.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Keeps the README's generated sections (option tables) equal to the code they describe. */
public final class Readme {
  private Readme() {}

  /**
   * The text between {@code <!-- <name>:begin ... -->} and {@code <!-- <name>:end -->} in the
   * repository's README.md (found from the module directory upwards).
   */
  public static String section(String name) throws IOException {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("README.md"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("README.md not found above " + Path.of("").toAbsolutePath());
    }
    String text = Files.readString(dir.resolve("README.md"));
    int begin = text.indexOf("<!-- " + name + ":begin");
    int end = text.indexOf("<!-- " + name + ":end -->");
    if (begin < 0 || end < 0) {
      throw new IllegalStateException("README.md has no section " + name);
    }
    return text.substring(text.indexOf("-->", begin) + 3, end).strip() + "\n";
  }
}
