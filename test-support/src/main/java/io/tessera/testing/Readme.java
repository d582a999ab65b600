package io.tessera.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Keeps the README's generated sections (option tables) equal to the code they describe. */
public final class Readme {
  private Readme() {}

  /**
   * The text between {@code <!-- <name>:begin ... -->} and {@code <!-- <name>:end -->} in the
   * repository's README.md or one of its {@code docs/*.md} pages (found from the module directory
   * upwards).
   */
  public static String section(String name) throws IOException {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("README.md"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("README.md not found above " + Path.of("").toAbsolutePath());
    }
    java.util.List<Path> pages =
        new java.util.ArrayList<>(java.util.List.of(dir.resolve("README.md")));
    if (Files.isDirectory(dir.resolve("docs"))) {
      try (java.util.stream.Stream<Path> docs = Files.list(dir.resolve("docs"))) {
        docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
      }
    }
    for (Path page : pages) {
      String text = Files.readString(page);
      int begin = text.indexOf("<!-- " + name + ":begin");
      int end = text.indexOf("<!-- " + name + ":end -->");
      if (begin >= 0 && end >= 0) {
        return text.substring(text.indexOf("-->", begin) + 3, end).strip() + "\n";
      }
    }
    throw new IllegalStateException("README.md and docs/*.md have no section " + name);
  }
}
