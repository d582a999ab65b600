package io.tessera.jdbc.dialect;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Literal;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * Translates Spark's V2 predicates (from {@code writeTo(...).overwrite(condition)}) to a SQL
 * condition with bound parameters. Column names are quoted by the dialect and must exist in the
 * table; literal values are never written into the SQL text. Strings compare as Spark compares them
 * (bytes, not the database's collation): see {@link JdbcDialect#sparkComparableString}.
 */
public final class SqlPredicates {
  /** A SQL condition and the values of its {@code ?} parameters, in order. */
  public record Condition(String sql, List<Object> params) {}

  /** Thrown when a predicate has no translation; the message says which part and why. */
  public static final class Untranslatable extends Exception {
    private static final long serialVersionUID = 1L;

    Untranslatable(String message) {
      super(message);
    }
  }

  private static final Set<String> COMPARISONS = Set.of("=", "<>", "<", "<=", ">", ">=");

  private final JdbcDialect dialect;
  private final StructType schema;

  public SqlPredicates(JdbcDialect dialect, StructType schema) {
    this.dialect = dialect;
    this.schema = schema;
  }

  /** All {@code predicates} combined with AND. */
  public Condition translate(Predicate[] predicates) throws Untranslatable {
    List<Object> params = new ArrayList<>();
    List<String> parts = new ArrayList<>();
    for (Predicate p : predicates) {
      parts.add(predicate(p, params));
    }
    return new Condition(parts.isEmpty() ? "1=1" : String.join(" AND ", parts), params);
  }

  private String predicate(Predicate p, List<Object> params) throws Untranslatable {
    String name = p.name();
    Expression[] c = p.children();
    if (COMPARISONS.contains(name)) {
      return operand(c[0], params) + " " + name + " " + operand(c[1], params);
    }
    switch (name) {
      case "<=>":
        return "(" + dialect.nullSafeEquals(operand(c[0], params), operand(c[1], params)) + ")";
      case "IS_NULL":
        return operand(c[0], params) + " IS NULL";
      case "IS_NOT_NULL":
        return operand(c[0], params) + " IS NOT NULL";
      case "IN":
        {
          StringBuilder sb = new StringBuilder(operand(c[0], params)).append(" IN (");
          for (int i = 1; i < c.length; i++) {
            sb.append(i > 1 ? ", " : "").append(operand(c[i], params));
          }
          return sb.append(")").toString();
        }
      case "AND":
      case "OR":
        return "("
            + predicate((Predicate) c[0], params)
            + " "
            + name
            + " "
            + predicate((Predicate) c[1], params)
            + ")";
      case "NOT":
        return "(NOT " + predicate((Predicate) c[0], params) + ")";
      case "ALWAYS_TRUE":
        return "1=1";
      case "ALWAYS_FALSE":
        return "1=0";
      default:
        throw new Untranslatable(
            "predicate " + p + " uses " + name + ", which tessera-jdbc cannot translate to SQL");
    }
  }

  private static final java.util.regex.Pattern CHAR_TYPE =
      java.util.regex.Pattern.compile("(?i)char\\((\\d+)\\)");

  /**
   * The n of a CHAR(n) column, which Spark hands over as STRING with its original type in the field
   * metadata; 0 for any other column.
   */
  static int charLength(org.apache.spark.sql.types.StructField field) {
    if (org.apache.spark.sql.internal.SQLConf.get().charVarcharAsString()) {
      return 0; // spark.sql.legacy.charVarcharAsString: Spark neither pads nor compares padded
    }
    String key = JdbcDialect.CHAR_VARCHAR_TYPE_KEY;
    if (!field.metadata().contains(key)) {
      return 0;
    }
    java.util.regex.Matcher m = CHAR_TYPE.matcher(field.metadata().getString(key));
    return m.matches() ? Integer.parseInt(m.group(1)) : 0;
  }

  private String operand(Expression e, List<Object> params) throws Untranslatable {
    if (e instanceof NamedReference ref) {
      String[] parts = ref.fieldNames();
      if (parts.length != 1 || !java.util.Arrays.asList(schema.fieldNames()).contains(parts[0])) {
        throw new Untranslatable("column " + ref + " is not a top-level column of the table");
      }
      String sql = dialect.quote(parts[0]);
      org.apache.spark.sql.types.StructField field = schema.apply(parts[0]);
      if (!(field.dataType() instanceof StringType)) {
        return sql;
      }
      int charLength = charLength(field);
      return charLength > 0
          ? dialect.sparkComparableChar(sql, charLength)
          : dialect.sparkComparableString(sql);
    }
    if (e instanceof Literal<?> lit) {
      params.add(
          lit.dataType().equals(org.apache.spark.sql.types.DataTypes.TimestampType)
                  && lit.value() != null
              ? dialect.instantParameter(
                  "literal",
                  org.apache.spark.sql.catalyst.util.DateTimeUtils.microsToInstant(
                      (Long) lit.value()))
              : ValueBinder.toJdbc(lit.dataType(), lit.value()));
      return lit.dataType() instanceof StringType ? dialect.sparkComparableString("?") : "?";
    }
    throw new Untranslatable(
        "expression "
            + e
            + " is neither a column nor a literal; only comparisons of columns"
            + " with literal values can be translated");
  }
}
