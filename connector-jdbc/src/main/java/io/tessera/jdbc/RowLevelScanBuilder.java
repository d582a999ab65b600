package io.tessera.jdbc;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.connector.expressions.Cast;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Literal;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.connector.read.SupportsPushDownV2Filters;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The scan of a row-level operation: Spark's JDBC scan, handed only the conditions the database
 * evaluates exactly as Spark does. Spark's JDBC push-down compares strings by the database's
 * collation (MariaDB's default ignores case and trailing spaces; PostgreSQL orders by locale), so
 * an {@code UPDATE ... WHERE name = 'a'} pushed down would also change the row of {@code 'A'}.
 * Conditions that touch a string (a string column, literal or cast) are therefore kept for Spark to
 * evaluate after the read, and so are conditions on instants (TIMESTAMP), whose literals Spark's
 * JDBC dialects write in the JVM's time zone; the others (numbers, booleans, dates, local
 * date-times) still narrow the read in the database.
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
      (touchesStrings(p) ? forSpark : exact).add(p);
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

  private boolean touchesStrings(Expression e) {
    if (e instanceof NamedReference ref) {
      String[] parts = ref.fieldNames();
      for (StructField f : schema.fields()) {
        if (parts.length > 0 && f.name().equalsIgnoreCase(parts[0])) {
          return !(f.dataType() instanceof org.apache.spark.sql.types.NumericType
              || f.dataType() instanceof org.apache.spark.sql.types.BooleanType
              || f.dataType() instanceof org.apache.spark.sql.types.DateType
              || f.dataType() instanceof org.apache.spark.sql.types.TimestampNTZType);
        }
      }
      return true; // not a plain column of the table: let Spark evaluate it
    }
    if (e instanceof Literal<?> lit && lit.dataType() instanceof StringType) {
      return true;
    }
    if (e instanceof Cast c && c.dataType() instanceof StringType) {
      return true;
    }
    for (Expression child : e.children()) {
      if (touchesStrings(child)) {
        return true;
      }
    }
    return false;
  }
}
