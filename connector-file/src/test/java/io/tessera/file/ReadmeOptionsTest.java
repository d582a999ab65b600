package io.tessera.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.testing.Readme;
import org.junit.jupiter.api.Test;

class ReadmeOptionsTest {
  @Test
  void readmeOptionTableMatchesTheDeclaredOptions() throws Exception {
    assertThat(Readme.section("file-options")).isEqualTo(FileWriteOptions.OPTIONS.markdownTable());
  }
}
