package io.tessera.common.options;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import java.util.Map;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.junit.jupiter.api.Test;

class OptionSetTest {
  enum Delivery {
    AT_LEAST_ONCE,
    EXACTLY_ONCE
  }

  static final OptionSpec<Integer> BATCH_SIZE =
      OptionSpec.intInRange("batchSize", 1000, 1, 100_000, "rows per INSERT batch");
  static final OptionSpec<Boolean> TRUNCATE_CASCADE =
      OptionSpec.bool("truncateCascade", false, "cascade truncates");
  static final OptionSpec<String> PASSWORD =
      OptionSpec.string("password", null, "database password").secret();
  static final OptionSpec<Delivery> DELIVERY =
      OptionSpec.choice("delivery", Delivery.class, Delivery.AT_LEAST_ONCE, "delivery guarantee");
  static final OptionSpec<String> URL = OptionSpec.string("url", null, "JDBC URL").required();

  static final OptionSet OPTIONS =
      OptionSet.builder("tessera-test")
          .add(BATCH_SIZE, TRUNCATE_CASCADE, PASSWORD, DELIVERY, URL)
          .passThroughPrefix("kafka.", "producer settings")
          .ignore("checkpointLocation")
          .build();

  @Test
  void parsesTypedValuesCaseInsensitivelyAndAppliesDefaults() {
    ParsedOptions parsed =
        OPTIONS.parse(
            new CaseInsensitiveStringMap(
                Map.of("URL", "jdbc:h2:mem:x", "BatchSize", "500", "delivery", "exactly-once")));

    assertThat(parsed.get(URL)).isEqualTo("jdbc:h2:mem:x");
    assertThat(parsed.get(BATCH_SIZE)).isEqualTo(500);
    assertThat(parsed.get(DELIVERY)).isEqualTo(Delivery.EXACTLY_ONCE);
    assertThat(parsed.get(TRUNCATE_CASCADE)).isFalse();
    assertThat(parsed.get(PASSWORD)).isNull();
    assertThat(parsed.isSet(BATCH_SIZE)).isTrue();
    assertThat(parsed.isSet(TRUNCATE_CASCADE)).isFalse();
  }

  @Test
  void unknownOptionNamesTheNearestValidOne() {
    assertThatThrownBy(() -> OPTIONS.parse(Map.of("url", "u", "batchsise", "10")))
        .isInstanceOf(TesseraException.class)
        .hasMessage(
            "[UNKNOWN_OPTION] Unknown option 'batchsise' for tessera-test; did you mean 'batchSize'?")
        .satisfies(
            e -> assertThat(((TesseraException) e).error()).isEqualTo(TesseraError.UNKNOWN_OPTION));
  }

  @Test
  void unknownOptionFarFromAnyListsTheValidOnes() {
    assertThatThrownBy(() -> OPTIONS.parse(Map.of("url", "u", "compression", "zstd")))
        .hasMessage(
            "[UNKNOWN_OPTION] Unknown option 'compression' for tessera-test; valid options are:"
                + " batchSize, truncateCascade, password, delivery, url, kafka.*");
  }

  @Test
  void malformedValueNamesOptionValueAndExpectation() {
    assertThatThrownBy(() -> OPTIONS.parse(Map.of("url", "u", "batchSize", "lots")))
        .hasMessage(
            "[INVALID_OPTION_VALUE] Option 'batchSize' has value 'lots' but expects a whole number"
                + " between 1 and 100000");
    assertThatThrownBy(() -> OPTIONS.parse(Map.of("url", "u", "batchSize", "0")))
        .hasMessageContaining("value '0' but expects a whole number between 1 and 100000");
    assertThatThrownBy(() -> OPTIONS.parse(Map.of("url", "u", "delivery", "twice")))
        .hasMessage(
            "[INVALID_OPTION_VALUE] Option 'delivery' has value 'twice' but expects one of:"
                + " at-least-once, exactly-once");
    assertThatThrownBy(() -> OPTIONS.parse(Map.of("url", "u", "truncateCascade", "yes")))
        .hasMessageContaining("'truncateCascade' has value 'yes' but expects true or false");
  }

  @Test
  void missingRequiredOptionSaysHowToSetIt() {
    assertThatThrownBy(() -> OPTIONS.parse(Map.of()))
        .hasMessage(
            "[MISSING_OPTION] Option 'url' is required by tessera-test (JDBC URL); set it with"
                + " .option(\"url\", ...)");
  }

  @Test
  void passThroughAndIgnoredKeysAreAccepted() {
    ParsedOptions parsed =
        OPTIONS.parse(
            Map.of(
                "url", "u",
                "kafka.linger.ms", "10",
                "kafka.sasl.jaas.config", "secret-jaas",
                "checkpointLocation", "/tmp/x"));
    assertThat(parsed.withPrefix("kafka."))
        .containsOnly(Map.entry("linger.ms", "10"), Map.entry("sasl.jaas.config", "secret-jaas"));
    assertThat(parsed.secretValues()).containsExactly("secret-jaas");
    assertThat(parsed.toString()).doesNotContain("secret-jaas").contains("linger.ms=10");
  }

  @Test
  void secretsNeverPrintedEvenWhenMalformed() {
    ParsedOptions parsed = OPTIONS.parse(Map.of("url", "u", "password", "hunter2"));
    assertThat(parsed.get(PASSWORD)).isEqualTo("hunter2");
    assertThat(parsed.toString())
        .doesNotContain("hunter2")
        .contains("password=*********(redacted)");
    assertThat(parsed.describe()).containsEntry("url", "u");
  }

  @Test
  void markdownTableListsEveryOption() {
    String table = OPTIONS.markdownTable();
    assertThat(table)
        .contains("| `batchSize` | int | 1000 | rows per INSERT batch |")
        .contains("| `delivery` | one of: at-least-once, exactly-once | at-least-once |")
        .contains("| `url` | string | (required) | JDBC URL |")
        .contains("| `password` | string | (none) | database password (secret: never printed) |")
        .contains("| `kafka.*` | string | | producer settings |");
  }

  @Test
  void editDistance() {
    assertThat(EditDistance.between("kitten", "sitting")).isEqualTo(3);
    assertThat(EditDistance.between("", "abc")).isEqualTo(3);
    assertThat(EditDistance.between("same", "same")).isZero();
  }
}
