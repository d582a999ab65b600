package io.tessera.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.ColumnStats;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.FieldReference;
import org.apache.spark.sql.connector.expressions.LiteralValue;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

/** Column statistics: what a file records, and that a file is ruled out only when it must be. */
class FileStatsTest {
  static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.LongType)
          .add("name", DataTypes.StringType)
          .add("amount", DataTypes.createDecimalType(10, 2))
          .add("ts", DataTypes.TimestampType)
          .add("score", DataTypes.DoubleType)
          .add("day", DataTypes.StringType);

  static Predicate p(String op, String col, Object value, DataType type) {
    Object v = value instanceof String s ? UTF8String.fromString(s) : value;
    return new Predicate(
        op, new Expression[] {FieldReference.apply(col), new LiteralValue<>(v, type)});
  }

  static Map<String, ColumnStats> collect(Object[]... rows) {
    StructType data = new StructType(java.util.Arrays.copyOf(SCHEMA.fields(), 5));
    FileStats.Collector c = new FileStats.Collector(data, new int[] {0, 1, 2, 3, 4});
    c.reset();
    for (Object[] r : rows) {
      c.add(new GenericInternalRow(r));
    }
    return c.result();
  }

  static Object[] row(Long id, String name, String amount, Long ts) {
    return new Object[] {
      id,
      name == null ? null : UTF8String.fromString(name),
      amount == null ? null : Decimal.apply(new java.math.BigDecimal(amount), 10, 2),
      ts,
      1.5
    };
  }

  @Test
  void aFileRecordsBoundsAndNullsOfTheTypesSparkOrdersLikeJava() {
    Map<String, ColumnStats> s =
        collect(
            row(5L, "b", "1.50", 1_000_123L),
            row(-3L, null, "-2.00", 2_000_000L),
            row(9L, "\uFF71", null, null),
            row(null, "a".repeat(70), "0.01", 999_999L));
    assertThat(s.get("id")).isEqualTo(new ColumnStats("-3", "9", 1));
    // A long string's prefix is still a lower bound; a long maximum is not kept (below).
    assertThat(s.get("name")).isEqualTo(new ColumnStats("a".repeat(16), "\uFF71", 1));
    assertThat(collect(row(1L, "b", null, null), row(2L, "z".repeat(65), null, null)).get("name"))
        .isEqualTo(new ColumnStats("b", null, 0));
    assertThat(s.get("amount")).isEqualTo(new ColumnStats("-2.00", "1.50", 1));
    // Timestamps widen to whole milliseconds (a file may store them so).
    assertThat(s.get("ts")).isEqualTo(new ColumnStats("999000", "2000000", 1));
    assertThat(s).doesNotContainKey("score");
  }

  @Test
  void aFileIsRuledOutOnlyWhenNoRowCanMakeTheConditionTrue() {
    AddFile f =
        new AddFile(
            "day=x/f.parquet",
            Map.of("day", "x"),
            100,
            10,
            Map.of(
                "id", new ColumnStats("10", "20", 0),
                "name", new ColumnStats("b", "d", 3),
                "amount", new ColumnStats("-1.5", "2.25", 0)));
    java.util.function.Predicate<Predicate> may = q -> FileStats.mayMatch(List.of(q), f, SCHEMA);
    assertThat(may.test(p("=", "id", 15L, DataTypes.LongType))).isTrue();
    assertThat(may.test(p("=", "id", 21L, DataTypes.LongType))).isFalse();
    assertThat(may.test(p("<", "id", 10L, DataTypes.LongType))).isFalse();
    assertThat(may.test(p("<=", "id", 10L, DataTypes.LongType))).isTrue();
    assertThat(may.test(p(">", "id", 20L, DataTypes.LongType))).isFalse();
    // A literal of another type than the column's: not understood, kept.
    assertThat(may.test(p("=", "id", 99, DataTypes.IntegerType))).isTrue();
    assertThat(may.test(p("=", "id", null, DataTypes.LongType))).isFalse();
    assertThat(may.test(p("=", "name", "c", DataTypes.StringType))).isTrue();
    assertThat(may.test(p("=", "name", "e", DataTypes.StringType))).isFalse();
    // Byte order: U+FF71 (EF BD B1) is below U+1F600 (F0 9F 98 80), unlike in UTF-16.
    assertThat(may.test(p(">", "name", "\uD83D\uDE00", DataTypes.StringType))).isFalse();
    assertThat(may.test(new Predicate("IS_NULL", new Expression[] {FieldReference.apply("name")})))
        .isTrue();
    assertThat(may.test(new Predicate("IS_NULL", new Expression[] {FieldReference.apply("id")})))
        .isFalse();
    assertThat(may.test(p("<=>", "id", null, DataTypes.LongType))).isFalse();
    assertThat(
            may.test(
                p(
                    "=",
                    "amount",
                    Decimal.apply(new java.math.BigDecimal("2.250"), 10, 3),
                    DataTypes.createDecimalType(10, 3))))
        .isTrue(); // another scale: another type, kept
    assertThat(
            may.test(
                p(
                    ">",
                    "amount",
                    Decimal.apply(new java.math.BigDecimal("2.25"), 10, 2),
                    DataTypes.createDecimalType(10, 2))))
        .isFalse();
    assertThat(may.test(p("=", "day", "x", DataTypes.StringType))).isTrue();
    assertThat(may.test(p("<>", "day", "x", DataTypes.StringType))).isFalse();
    assertThat(may.test(p("=", "score", 1.0, DataTypes.DoubleType))).isTrue(); // no statistics
    Predicate in =
        new Predicate(
            "IN",
            new Expression[] {
              FieldReference.apply("id"),
              new LiteralValue<>(1L, DataTypes.LongType),
              new LiteralValue<>(null, DataTypes.LongType),
              new LiteralValue<>(30L, DataTypes.LongType)
            });
    assertThat(may.test(in)).isFalse();
    Predicate or =
        new Predicate("OR", new Expression[] {in, p("=", "id", 12L, DataTypes.LongType)});
    assertThat(may.test(or)).isTrue();
    assertThat(may.test(new org.apache.spark.sql.connector.expressions.filter.Not(in))).isTrue();
    // A file written before statistics: always read.
    AddFile old = new AddFile("day=x/g.parquet", Map.of("day", "x"), 100, 10);
    assertThat(FileStats.mayMatch(List.of(p("=", "id", 99L, DataTypes.LongType)), old, SCHEMA))
        .isTrue();
  }
}
