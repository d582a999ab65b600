package io.tessera.file;

import io.tessera.common.errors.TesseraErrors;
import java.io.Serializable;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.DateTimeUtils;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Literal;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Partition values as the text a folder name carries (formatted as Spark casts them to string), and
 * evaluation of overwrite predicates on them. Partition columns may be STRING, integral, BOOLEAN,
 * DATE or DECIMAL.
 */
final class PartitionValues implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Set<String> COMPARISONS = Set.of("=", "<>", "<", "<=", ">", ">=", "<=>");

  private PartitionValues() {}

  static void checkPartitionType(String column, DataType type) {
    if (!(type.equals(DataTypes.StringType)
        || type.equals(DataTypes.IntegerType)
        || type.equals(DataTypes.LongType)
        || type.equals(DataTypes.ShortType)
        || type.equals(DataTypes.ByteType)
        || type.equals(DataTypes.BooleanType)
        || type.equals(DataTypes.DateType)
        || type instanceof DecimalType)) {
      throw TesseraErrors.unsupportedType(
          "a tessera-file partition column",
          column,
          type.sql(),
          List.of("STRING", "TINYINT", "SMALLINT", "INT", "BIGINT", "BOOLEAN", "DATE", "DECIMAL"));
    }
  }

  /** The folder text of field {@code ordinal} of {@code row}; null for SQL NULL. */
  static String text(InternalRow row, int ordinal, DataType type) {
    if (row.isNullAt(ordinal)) {
      return null;
    } else if (type.equals(DataTypes.StringType)) {
      // Like Spark's own writer: an empty string is stored in the null partition folder.
      String s = row.getUTF8String(ordinal).toString();
      return s.isEmpty() ? null : s;
    } else if (type.equals(DataTypes.IntegerType)) {
      return Integer.toString(row.getInt(ordinal));
    } else if (type.equals(DataTypes.LongType)) {
      return Long.toString(row.getLong(ordinal));
    } else if (type.equals(DataTypes.ShortType)) {
      return Short.toString(row.getShort(ordinal));
    } else if (type.equals(DataTypes.ByteType)) {
      return Byte.toString(row.getByte(ordinal));
    } else if (type.equals(DataTypes.BooleanType)) {
      return Boolean.toString(row.getBoolean(ordinal));
    } else if (type.equals(DataTypes.DateType)) {
      return DateTimeUtils.toJavaDate(row.getInt(ordinal)).toLocalDate().toString();
    } else if (type instanceof DecimalType d) {
      return row.getDecimal(ordinal, d.precision(), d.scale()).toJavaBigDecimal().toPlainString();
    }
    throw new IllegalArgumentException("unsupported partition type " + type.sql());
  }

  /** A copy of field {@code ordinal} that stays valid after Spark reuses the row; null for NULL. */
  static Object copyValue(InternalRow row, int ordinal, DataType type) {
    if (row.isNullAt(ordinal)) {
      return null;
    } else if (type.equals(DataTypes.StringType)) {
      return row.getUTF8String(ordinal).clone();
    } else if (type instanceof DecimalType d) {
      return row.getDecimal(ordinal, d.precision(), d.scale()).clone();
    }
    return rawLong(row, ordinal, type);
  }

  /**
   * Whether field {@code ordinal} equals {@code copy} (from {@link #copyValue}), without
   * allocating: this runs for every row a data writer writes.
   */
  static boolean sameValue(InternalRow row, int ordinal, DataType type, Object copy) {
    if (row.isNullAt(ordinal)) {
      return copy == null;
    } else if (copy == null) {
      return false;
    } else if (type.equals(DataTypes.StringType)) {
      return row.getUTF8String(ordinal).equals(copy);
    } else if (type instanceof DecimalType d) {
      return row.getDecimal(ordinal, d.precision(), d.scale()).equals(copy);
    }
    return rawLong(row, ordinal, type) == (Long) copy;
  }

  private static long rawLong(InternalRow row, int ordinal, DataType type) {
    if (type.equals(DataTypes.IntegerType) || type.equals(DataTypes.DateType)) {
      return row.getInt(ordinal);
    } else if (type.equals(DataTypes.LongType)) {
      return row.getLong(ordinal);
    } else if (type.equals(DataTypes.ShortType)) {
      return row.getShort(ordinal);
    } else if (type.equals(DataTypes.ByteType)) {
      return row.getByte(ordinal);
    } else if (type.equals(DataTypes.BooleanType)) {
      return row.getBoolean(ordinal) ? 1 : 0;
    }
    throw new IllegalArgumentException("unsupported partition type " + type.sql());
  }

  /** Whether every predicate refers only to partition columns with operators we evaluate. */
  static String unsupportedReason(Predicate[] predicates, List<String> partitionColumns) {
    for (Predicate p : predicates) {
      String reason = reason(p, partitionColumns);
      if (reason != null) {
        return reason;
      }
    }
    return null;
  }

  private static String reason(Predicate p, List<String> cols) {
    String n = p.name();
    switch (n) {
      case "AND", "OR", "NOT" -> {
        for (Expression c : p.children()) {
          String r = reason((Predicate) c, cols);
          if (r != null) {
            return r;
          }
        }
        return null;
      }
      case "ALWAYS_TRUE", "ALWAYS_FALSE" -> {
        return null;
      }
      default -> {
        if (!COMPARISONS.contains(n)
            && !n.equals("IN")
            && !n.equals("IS_NULL")
            && !n.equals("IS_NOT_NULL")) {
          return "operator " + n + " is not supported";
        }
        for (Expression c : p.children()) {
          if (c instanceof NamedReference ref) {
            String[] parts = ref.fieldNames();
            if (parts.length != 1 || !cols.contains(parts[0])) {
              return "column "
                  + ref
                  + " is not a partition column (partition columns: "
                  + cols
                  + ")";
            }
          } else if (!(c instanceof Literal<?>)) {
            return "expression " + c + " is neither a partition column nor a literal";
          }
        }
        return null;
      }
    }
  }

  /**
   * Whether a file with partition {@code values} satisfies all {@code predicates}, with SQL's
   * three-valued logic: only files for which the condition is TRUE (not unknown) are replaced.
   */
  static boolean matches(Predicate[] predicates, Map<String, String> values, StructType schema) {
    return Arrays.stream(predicates).allMatch(p -> Boolean.TRUE.equals(eval(p, values, schema)));
  }

  /** TRUE, FALSE, or null for unknown. */
  private static Boolean eval(Predicate p, Map<String, String> values, StructType schema) {
    Expression[] c = p.children();
    switch (p.name()) {
      case "AND":
        {
          Boolean a = eval((Predicate) c[0], values, schema);
          Boolean b = eval((Predicate) c[1], values, schema);
          if (Boolean.FALSE.equals(a) || Boolean.FALSE.equals(b)) {
            return false;
          }
          return a == null || b == null ? null : true;
        }
      case "OR":
        {
          Boolean a = eval((Predicate) c[0], values, schema);
          Boolean b = eval((Predicate) c[1], values, schema);
          if (Boolean.TRUE.equals(a) || Boolean.TRUE.equals(b)) {
            return true;
          }
          return a == null || b == null ? null : false;
        }
      case "NOT":
        {
          Boolean a = eval((Predicate) c[0], values, schema);
          return a == null ? null : !a;
        }
      case "ALWAYS_TRUE":
        return true;
      case "ALWAYS_FALSE":
        return false;
      case "IS_NULL":
        return value(c[0], values, schema) == null;
      case "IS_NOT_NULL":
        return value(c[0], values, schema) != null;
      case "IN":
        {
          Object left = value(c[0], values, schema);
          if (left == null) {
            return null;
          }
          boolean sawNull = false;
          for (int i = 1; i < c.length; i++) {
            Object v = value(c[i], values, schema);
            if (v == null) {
              sawNull = true;
            } else if (compare(left, v) == 0) {
              return true;
            }
          }
          return sawNull ? null : false;
        }
      default:
        {
          Object a = value(c[0], values, schema);
          Object b = value(c[1], values, schema);
          if (p.name().equals("<=>")) {
            return a == null ? b == null : b != null && compare(a, b) == 0;
          }
          if (a == null || b == null) {
            return null;
          }
          int cmp = compare(a, b);
          return switch (p.name()) {
            case "=" -> cmp == 0;
            case "<>" -> cmp != 0;
            case "<" -> cmp < 0;
            case "<=" -> cmp <= 0;
            case ">" -> cmp > 0;
            default -> cmp >= 0;
          };
        }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compare(Object a, Object b) {
    if (a instanceof String x && b instanceof String y) {
      // Byte for byte in UTF-8, as Spark compares strings (String.compareTo orders UTF-16 units,
      // which puts characters beyond U+FFFF before U+E000-U+FFFF).
      return org.apache.spark.unsafe.types.UTF8String.fromString(x)
          .binaryCompare(org.apache.spark.unsafe.types.UTF8String.fromString(y));
    }
    if (a.getClass() == b.getClass() && a instanceof Comparable ca) {
      return ca.compareTo(b);
    }
    return a.toString().compareTo(b.toString());
  }

  /** A typed Java value: String, Long, Boolean, LocalDate or BigDecimal; null for NULL. */
  private static Object value(Expression e, Map<String, String> values, StructType schema) {
    if (e instanceof NamedReference ref) {
      String col = ref.fieldNames()[0];
      String text = values.get(col);
      return text == null ? null : parse(text, schema.apply(col).dataType());
    }
    Literal<?> lit = (Literal<?>) e;
    Object v = lit.value();
    DataType t = lit.dataType();
    if (v == null) {
      return null;
    } else if (v instanceof UTF8String s) {
      return s.toString();
    } else if (t.equals(DataTypes.DateType)) {
      return LocalDate.ofEpochDay((Integer) v);
    } else if (v instanceof Decimal d) {
      return d.toJavaBigDecimal();
    } else if (v instanceof Number n) {
      return n.longValue();
    }
    return v;
  }

  private static Object parse(String text, DataType type) {
    if (type.equals(DataTypes.StringType)) {
      return text;
    } else if (type.equals(DataTypes.BooleanType)) {
      return Boolean.valueOf(text);
    } else if (type.equals(DataTypes.DateType)) {
      return LocalDate.parse(text);
    } else if (type instanceof DecimalType) {
      return new BigDecimal(text);
    }
    return Long.valueOf(text);
  }
}
