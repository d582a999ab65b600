package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.testing.Readme;
import org.junit.jupiter.api.Test;

class ReadmeOptionsTest {
  @Test
  void readmeOptionTableMatchesTheDeclaredOptions() throws Exception {
    assertThat(Readme.section("jdbc-options"))
        .as("README.md's tessera-jdbc option table; replace it with the expected text")
        .isEqualTo(JdbcWriteOptions.OPTIONS.markdownTable());
  }
}
