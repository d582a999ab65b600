package io.tessera.jdbc.dialect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.FieldReference;
import org.apache.spark.sql.connector.expressions.LiteralValue;
import org.apache.spark.sql.connector.expressions.filter.And;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

class JdbcDialectTest {
  static final JdbcDialect PG = JdbcDialects.forUrl("jdbc:postgresql://h/db");
  static final JdbcDialect MARIA = JdbcDialects.forUrl("jdbc:mariadb://h/db");
  static final JdbcDialect H2 = JdbcDialects.forUrl("jdbc:h2:mem:x");

  @Test
  void dialectChosenByUrl() {
    assertThat(PG).isInstanceOf(PostgresDialect.class);
    assertThat(MARIA).isInstanceOf(MariaDbDialect.class);
    assertThat(JdbcDialects.forUrl("jdbc:mysql://h/db")).isInstanceOf(MariaDbDialect.class);
    assertThat(H2).isInstanceOf(H2Dialect.class);
    assertThatThrownBy(() -> JdbcDialects.forUrl("jdbc:oracle:thin:scott/tiger@h:1521/x"))
        .hasMessageContaining("[INVALID_OPTION_VALUE] Option 'url'")
        .hasMessageContaining("no dialect for it");
  }

  @Test
  void quotingDoublesEmbeddedQuotes() {
    assertThat(PG.quote("a\"b; DROP")).isEqualTo("\"a\"\"b; DROP\"");
    assertThat(MARIA.quote("a`b")).isEqualTo("`a``b`");
    assertThat(H2.qualified("s\"", "t")).isEqualTo("\"s\"\"\".\"t\"");
    assertThat(MARIA.stringLiteral("it's \\ here")).isEqualTo("'it''s \\\\ here'");
  }

  @Test
  void typeMappingCoversAtomicTypesAndRejectsOthers() {
    assertThat(PG.columnType("c", DataTypes.TimestampType)).isEqualTo("TIMESTAMP WITH TIME ZONE");
    assertThat(MARIA.columnType("c", DataTypes.StringType)).isEqualTo("LONGTEXT");
    assertThat(H2.columnType("c", DataTypes.createDecimalType(12, 3))).isEqualTo("DECIMAL(12,3)");
    assertThatThrownBy(() -> PG.columnType("tags", DataTypes.createArrayType(DataTypes.StringType)))
        .hasMessageStartingWith(
            "[UNSUPPORTED_TYPE] Column 'tags' has type ARRAY<STRING> which tessera-jdbc (PostgreSQL)"
                + " cannot store; cast it to one of: BIGINT, BINARY");
  }

  @Test
  void mariaDbReaderUrlUsesSparksMySqlDialect() {
    assertThat(MARIA.sparkReaderUrl("jdbc:mariadb://h:3306/db"))
        .isEqualTo("jdbc:mysql://h:3306/db?permitMysqlScheme");
    assertThat(MARIA.sparkReaderUrl("jdbc:mariadb://h/db?a=b"))
        .isEqualTo("jdbc:mysql://h/db?a=b&permitMysqlScheme");
    assertThat(PG.sparkReaderUrl("jdbc:postgresql://h/db")).isEqualTo("jdbc:postgresql://h/db");
  }

  @Test
  void predicatesBecomeQuotedColumnsAndBoundValues() throws Exception {
    StructType schema =
        new StructType().add("day", DataTypes.StringType).add("n", DataTypes.IntegerType);
    Predicate eq =
        new Predicate(
            "=",
            new Expression[] {
              FieldReference.apply("day"),
              new LiteralValue<>(UTF8String.fromString("O'Brien\"; --"), DataTypes.StringType)
            });
    Predicate in =
        new Predicate(
            "IN",
            new Expression[] {
              FieldReference.apply("n"),
              new LiteralValue<>(1, DataTypes.IntegerType),
              new LiteralValue<>(2, DataTypes.IntegerType)
            });
    SqlPredicates.Condition c =
        new SqlPredicates(MARIA, schema).translate(new Predicate[] {new And(eq, in)});

    // Strings compare by their UTF-8 bytes (Spark's order), not by MariaDB's collation.
    assertThat(c.sql())
        .isEqualTo(
            "(CAST(CONVERT(`day` USING utf8mb4) AS BINARY) = CAST(CONVERT(? USING utf8mb4) AS"
                + " BINARY) AND `n` IN (?, ?))");
    assertThat(c.params()).containsExactly("O'Brien\"; --", 1, 2);
  }

  @Test
  void untranslatablePredicatesAreRefusedWithAReason() {
    StructType schema = new StructType().add("day", DataTypes.StringType);
    Predicate unknownColumn =
        new Predicate(
            "=",
            new Expression[] {
              FieldReference.apply("nope"), new LiteralValue<>(1, DataTypes.IntegerType)
            });
    Predicate startsWith =
        new Predicate(
            "STARTS_WITH",
            new Expression[] {
              FieldReference.apply("day"),
              new LiteralValue<>(UTF8String.fromString("x"), DataTypes.StringType)
            });
    assertThatThrownBy(
            () -> new SqlPredicates(PG, schema).translate(new Predicate[] {unknownColumn}))
        .hasMessageContaining("column nope is not a top-level column of the table");
    assertThatThrownBy(() -> new SqlPredicates(PG, schema).translate(new Predicate[] {startsWith}))
        .hasMessageContaining("uses STARTS_WITH, which tessera-jdbc cannot translate");
  }

  @Test
  void stagingTablesAreCreatedWithoutConstraintsAndRecognisable() {
    String name = JdbcDialect.stagingTableName(1_700_000_000L, "ABC123");
    assertThat(name).matches("tessera_stg_1700000000_abc123_[0-9a-f]{8}");
    assertThat(JdbcDialect.isStagingTableName(name)).isTrue();
    assertThat(JdbcDialect.isStagingTableName("tessera_stg_1700000000_abc123")).isFalse();
    assertThat(JdbcDialect.isStagingTableName(name.replace("abc123", "abc124"))).isFalse();
    assertThat(PG.createStagingTable("\"s\".\"stg\"", "\"s\".\"t\""))
        .isEqualTo(
            List.of(
                "CREATE UNLOGGED TABLE \"s\".\"stg\" AS SELECT * FROM \"s\".\"t\" WITH NO DATA",
                "ALTER TABLE \"s\".\"stg\" ADD COLUMN \"__tessera_attempt\" BIGINT"));
    assertThat(MARIA.deleteAll("`t`")).isEqualTo("DELETE FROM `t`");
    assertThat(PG.deleteAll("\"t\"")).isEqualTo("DELETE FROM \"t\"");
  }

  /**
   * Each database user gets a ledger of its own: names that differ only in case or punctuation
   * never share one, every name fits PostgreSQL's 63-character identifiers, and only such names
   * (and the legacy shared ledger) are hidden as Tessera's.
   */
  @Test
  void ledgerNamesArePerUserShortAndRecognisable() {
    List<String> users =
        List.of("bob", "Bob", "bob@%", "bob@localhost", "", "x".repeat(200), "o'brien; drop");
    List<String> names = users.stream().map(JdbcDialect::ledgerTableName).toList();
    assertThat(names).doesNotHaveDuplicates();
    assertThat(names).allMatch(n -> n.length() <= 63).allMatch(JdbcDialect::isLedgerTableName);
    assertThat(names).allMatch(n -> n.matches("tessera_ledger_[a-z0-9_]*_[0-9a-f]{8}_[0-9a-f]{8}"));
    assertThat(JdbcDialect.ledgerTableName("Bob")).startsWith("tessera_ledger_bob_");
    assertThat(JdbcDialect.isLedgerTableName("tessera_ledger")).isTrue();
    assertThat(JdbcDialect.isLedgerTableName("tessera_ledger_notes")).isFalse();
    assertThat(JdbcDialect.isLedgerTableName("tessera_ledger_backup_20241231")).isFalse();
    assertThat(JdbcDialect.isLedgerTableName("tessera_ledger_bob_12345678_9abcdef0")).isFalse();
  }
}
