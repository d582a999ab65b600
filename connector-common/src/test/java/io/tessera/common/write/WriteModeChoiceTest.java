package io.tessera.common.write;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.FieldReference;
import org.apache.spark.sql.connector.expressions.LiteralValue;
import org.apache.spark.sql.connector.expressions.filter.AlwaysTrue;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

class WriteModeChoiceTest {
  private static Predicate dayEquals(String day) {
    return new Predicate(
        "=",
        new Expression[] {
          FieldReference.apply("day"), new LiteralValue<>(day, DataTypes.StringType)
        });
  }

  @Test
  void defaultsToAppend() {
    assertThat(new WriteModeChoice().mode()).isEqualTo(new WriteMode.Append());
  }

  @Test
  void overwriteWithAlwaysTrueIsTruncate() {
    WriteModeChoice choice = new WriteModeChoice().overwrite(new Predicate[] {new AlwaysTrue()});
    assertThat(choice.mode()).isEqualTo(new WriteMode.Truncate());
  }

  @Test
  void overwriteKeepsPredicates() {
    Predicate p = dayEquals("2026-11-01");
    WriteMode mode = new WriteModeChoice().overwrite(new Predicate[] {p}).mode();
    assertThat(mode).isInstanceOf(WriteMode.OverwriteByFilter.class);
    assertThat(((WriteMode.OverwriteByFilter) mode).predicates()).containsExactly(p);
    assertThat(mode.describe()).isEqualTo("overwrite where day = '2026-11-01'");
  }

  @Test
  void repeatingTheSameChoiceIsFine() {
    assertThat(new WriteModeChoice().truncate().truncate().mode())
        .isEqualTo(new WriteMode.Truncate());
  }

  @Test
  void conflictingChoicesFailNamingBoth() {
    assertThatThrownBy(() -> new WriteModeChoice().truncate().dynamicOverwrite())
        .hasMessageStartingWith(
            "[CONFLICTING_WRITE_MODES] Cannot combine write mode dynamic partition overwrite with"
                + " truncate");
    assertThatThrownBy(
            () ->
                new WriteModeChoice()
                    .upsert(List.of("id"))
                    .overwrite(new Predicate[] {dayEquals("x")}))
        .hasMessageContaining("with upsert on id");
  }

  @Test
  void upsertNeedsKeys() {
    assertThatThrownBy(() -> new WriteMode.Upsert(List.of()))
        .hasMessage("upsert needs at least one key column");
  }
}
