package io.tessera.jdbc;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Literal;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.connector.read.SupportsPushDownV2Filters;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The scan of a row-level operation: Spark's JDBC scan, handed only the conditions the database
 * evaluates exactly as Spark does. Spark's JDBC push-down compares strings by the database's
 * collation (MariaDB's default ignores case and trailing spaces; PostgreSQL orders by locale), so
 * an {@code UPDATE ... WHERE name = 'a'} pushed down would also change the row of {@code 'A'}. Only
 * plain comparisons of integers, decimals, dates and local date-times narrow the read in the
 * database; every other condition (strings, instants, whose literals Spark's JDBC dialects write in
 * the JVM's time zone, casts, arithmetic, functions) is kept for Spark to evaluate after the read.
 */
final class RowLevelScanBuilder
    implements ScanBuilder, SupportsPushDownV2Filters, SupportsPushDownRequiredColumns {
  private final ScanBuilder jdbc;
  private final StructType schema;

  RowLevelScanBuilder(ScanBuilder jdbc, StructType schema) {
    this.jdbc = jdbc;
    this.schema = schema;
  }

  @Override
  public Predicate[] pushPredicates(Predicate[] predicates) {
    List<Predicate> exact = new ArrayList<>();
    List<Predicate> forSpark = new ArrayList<>();
    for (Predicate p : predicates) {
      (exactInDatabase(p) ? exact : forSpark).add(p);
    }
    if (jdbc instanceof SupportsPushDownV2Filters f) {
      forSpark.addAll(List.of(f.pushPredicates(exact.toArray(Predicate[]::new))));
    } else {
      forSpark.addAll(exact);
    }
    return forSpark.toArray(Predicate[]::new);
  }

  @Override
  public Predicate[] pushedPredicates() {
    return jdbc instanceof SupportsPushDownV2Filters f ? f.pushedPredicates() : new Predicate[0];
  }

  @Override
  public void pruneColumns(StructType requiredSchema) {
    if (jdbc instanceof SupportsPushDownRequiredColumns r) {
      r.pruneColumns(requiredSchema);
    }
  }

  @Override
  public Scan build() {
    return jdbc.build();
  }

  private static final java.util.Set<String> PLAIN_PREDICATES =
      java.util.Set.of(
          "=",
          "<>",
          "<",
          "<=",
          ">",
          ">=",
          "<=>",
          "IN",
          "IS_NULL",
          "IS_NOT_NULL",
          "AND",
          "OR",
          "NOT",
          "ALWAYS_TRUE",
          "ALWAYS_FALSE");

  /**
   * Whether the database evaluates {@code e} exactly as Spark does: comparisons, IN, IS NULL and
   * logic over plain columns and literals of integers, decimals, dates and local date-times.
   * Anything else (strings, booleans, which MariaDB keeps as TINYINT, instants, casts, which the
   * databases round where Spark truncates, arithmetic, functions) is evaluated by Spark.
   */
  private boolean exactInDatabase(Expression e) {
    if (e instanceof NamedReference ref) {
      String[] parts = ref.fieldNames();
      if (parts.length != 1) {
        return false;
      }
      for (StructField f : schema.fields()) {
        if (f.name().equals(parts[0])) {
          return exactType(f.dataType());
        }
      }
      return false; // not a plain column of the table (the row version, say)
    }
    if (e instanceof Literal<?> lit) {
      return lit.value() == null || exactType(lit.dataType());
    }
    if (e instanceof Predicate p && PLAIN_PREDICATES.contains(p.name())) {
      for (Expression child : e.children()) {
        if (!exactInDatabase(child)) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  private static boolean exactType(org.apache.spark.sql.types.DataType t) {
    // Not FLOAT/DOUBLE: a FLOAT column compares as a single-precision value in the database.
    return t instanceof org.apache.spark.sql.types.IntegralType
        || t instanceof org.apache.spark.sql.types.DecimalType
        || t instanceof org.apache.spark.sql.types.DateType
        || t instanceof org.apache.spark.sql.types.TimestampNTZType;
  }
}
