package io.tessera.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.FieldReference;
import org.apache.spark.sql.connector.expressions.LiteralValue;
import org.apache.spark.sql.connector.expressions.filter.Not;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

class PartitionValuesTest {
  static final StructType SCHEMA =
      new StructType().add("region", DataTypes.StringType).add("n", DataTypes.IntegerType);

  static Predicate eq(String col, Object value) {
    Object v = value instanceof String s ? UTF8String.fromString(s) : value;
    return new Predicate(
        "=",
        new Expression[] {
          FieldReference.apply(col),
          new LiteralValue<>(
              v, value instanceof String ? DataTypes.StringType : DataTypes.IntegerType)
        });
  }

  static Map<String, String> region(String r) {
    Map<String, String> m = new HashMap<>();
    m.put("region", r);
    m.put("n", "5");
    return m;
  }

  @Test
  void notOfAComparisonWithNullIsUnknownSoNullPartitionsAreKept() {
    Predicate[] notEu = {new Not(eq("region", "eu"))};
    assertThat(PartitionValues.matches(notEu, region("us"), SCHEMA)).isTrue();
    assertThat(PartitionValues.matches(notEu, region("eu"), SCHEMA)).isFalse();
    assertThat(PartitionValues.matches(notEu, region(null), SCHEMA)).isFalse();
  }

  @Test
  void inWithANullLiteralNeverThrowsAndMatchesOnlyRealValues() {
    Predicate in =
        new Predicate(
            "IN",
            new Expression[] {
              FieldReference.apply("region"),
              new LiteralValue<>(UTF8String.fromString("eu"), DataTypes.StringType),
              new LiteralValue<>(null, DataTypes.StringType)
            });
    assertThat(PartitionValues.matches(new Predicate[] {in}, region("eu"), SCHEMA)).isTrue();
    assertThat(PartitionValues.matches(new Predicate[] {in}, region("us"), SCHEMA)).isFalse();
    assertThat(PartitionValues.matches(new Predicate[] {new Not(in)}, region("us"), SCHEMA))
        .isFalse();
  }

  @Test
  void numbersCompareAsNumbersAndOnlyPartitionColumnsAreAccepted() {
    Predicate gt =
        new Predicate(
            ">",
            new Expression[] {
              FieldReference.apply("n"), new LiteralValue<>(10, DataTypes.IntegerType)
            });
    assertThat(PartitionValues.matches(new Predicate[] {gt}, region("x"), SCHEMA)).isFalse();
    assertThat(PartitionValues.unsupportedReason(new Predicate[] {gt}, List.of("region")))
        .contains("column n is not a partition column");
    assertThat(PartitionValues.unsupportedReason(new Predicate[] {gt}, List.of("region", "n")))
        .isNull();
  }

  @Test
  void stringsCompareByteForByteAsSparkDoes() {
    // U+1F600 is F0 9F 98 80 in UTF-8, above U+FF71 (EF BD B1); in UTF-16 it sorts below.
    Predicate below =
        new Predicate(
            "<",
            new Expression[] {
              FieldReference.apply("region"),
              new LiteralValue<>(UTF8String.fromString("\uFF71"), DataTypes.StringType)
            });
    assertThat(PartitionValues.matches(new Predicate[] {below}, region("\uD83D\uDE00"), SCHEMA))
        .isFalse();
    assertThat(PartitionValues.matches(new Predicate[] {below}, region("a"), SCHEMA)).isTrue();
  }
}
