package io.tessera.file;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.ColumnStats;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Literal;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Per-file column statistics: collected while a task writes a file, and used on the driver to skip
 * files in which no row can satisfy a condition (reads, and the files a DELETE, UPDATE or MERGE
 * rewrites). Values compare as Spark compares them: integers, dates and timestamps by their
 * internal number, decimals by value, strings byte for byte (only columns with Spark's default
 * binary collation). Floating-point columns get no statistics (NaN and -0.0 order differently in
 * Spark than in Java), nor do other types. A file may be skipped only when its statistics prove
 * that the condition is not TRUE for any of its rows; anything not understood keeps the file.
 */
final class FileStats {
  /** Longer strings are not kept as a maximum (a truncated one would be too small). */
  static final int MAX_STRING_BYTES = 64;

  private FileStats() {}

  private enum Kind {
    LONG,
    DECIMAL,
    STRING
  }

  private static Kind kind(DataType t) {
    if (t instanceof ByteType
        || t instanceof ShortType
        || t instanceof IntegerType
        || t instanceof LongType
        || t instanceof DateType
        || t instanceof TimestampType
        || t instanceof TimestampNTZType
        || t instanceof BooleanType) {
      return Kind.LONG;
    } else if (t instanceof DecimalType) {
      return Kind.DECIMAL;
    } else if (t instanceof StringType s && s.isUTF8BinaryCollation()) {
      return Kind.STRING;
    }
    return null;
  }

  /** Executor side: the statistics of the file being written, one row at a time. */
  static final class Collector {
    private final String[] names;
    private final int[] ordinals;
    private final DataType[] types;
    private final Kind[] kinds;
    private final long[] minL;
    private final long[] maxL;
    private final Object[] minO;
    private final Object[] maxO;
    private final boolean[] tooLong;
    private final long[] nulls;
    private final boolean[] seen;

    /**
     * @param columns the data columns' names and types
     * @param ordinals where each is in the rows passed to {@link #add}
     */
    Collector(StructType columns, int[] ordinals) {
      List<Integer> keep = new java.util.ArrayList<>();
      StructField[] fields = columns.fields();
      for (int i = 0; i < fields.length; i++) {
        if (kind(fields[i].dataType()) != null) {
          keep.add(i);
        }
      }
      int n = keep.size();
      names = new String[n];
      this.ordinals = new int[n];
      types = new DataType[n];
      kinds = new Kind[n];
      for (int j = 0; j < n; j++) {
        int i = keep.get(j);
        names[j] = fields[i].name();
        this.ordinals[j] = ordinals[i];
        types[j] = fields[i].dataType();
        kinds[j] = kind(types[j]);
      }
      minL = new long[n];
      maxL = new long[n];
      minO = new Object[n];
      maxO = new Object[n];
      tooLong = new boolean[n];
      nulls = new long[n];
      seen = new boolean[n];
    }

    void reset() {
      java.util.Arrays.fill(nulls, 0);
      java.util.Arrays.fill(seen, false);
      java.util.Arrays.fill(tooLong, false);
      java.util.Arrays.fill(minO, null);
      java.util.Arrays.fill(maxO, null);
    }

    void add(InternalRow row) {
      for (int j = 0; j < names.length; j++) {
        int o = ordinals[j];
        if (row.isNullAt(o)) {
          nulls[j]++;
          continue;
        }
        switch (kinds[j]) {
          case LONG -> {
            long v = longValue(row, o, types[j]);
            if (!seen[j]) {
              minL[j] = v;
              maxL[j] = v;
            } else if (v < minL[j]) {
              minL[j] = v;
            } else if (v > maxL[j]) {
              maxL[j] = v;
            }
          }
          case DECIMAL -> {
            DecimalType d = (DecimalType) types[j];
            Decimal v = row.getDecimal(o, d.precision(), d.scale());
            if (!seen[j]) {
              minO[j] = v.clone();
              maxO[j] = v.clone();
            } else if (v.compare((Decimal) minO[j]) < 0) {
              minO[j] = v.clone();
            } else if (v.compare((Decimal) maxO[j]) > 0) {
              maxO[j] = v.clone();
            }
          }
          case STRING -> {
            UTF8String v = row.getUTF8String(o);
            if (!seen[j]) {
              minO[j] = v.clone();
              maxO[j] = v.clone();
            } else if (v.binaryCompare((UTF8String) minO[j]) < 0) {
              minO[j] = v.clone();
            } else if (v.binaryCompare((UTF8String) maxO[j]) > 0) {
              maxO[j] = v.clone();
            }
          }
        }
        seen[j] = true;
      }
    }

    /** The statistics of the rows added since the last {@link #reset}. */
    Map<String, ColumnStats> result() {
      Map<String, ColumnStats> out = new LinkedHashMap<>();
      for (int j = 0; j < names.length; j++) {
        if (!seen[j]) {
          out.put(names[j], new ColumnStats(null, null, nulls[j]));
          continue;
        }
        String min;
        String max;
        switch (kinds[j]) {
          case LONG -> {
            long lo = minL[j];
            long hi = maxL[j];
            if (types[j] instanceof TimestampType || types[j] instanceof TimestampNTZType) {
              // Widened to whole milliseconds: a file may store them at that precision
              // (spark.sql.parquet.outputTimestampType=TIMESTAMP_MILLIS).
              lo = Math.floorDiv(lo, 1000L) * 1000L;
              hi = Math.floorDiv(hi, 1000L) * 1000L + (Math.floorMod(hi, 1000L) == 0 ? 0 : 1000L);
            }
            min = Long.toString(lo);
            max = Long.toString(hi);
          }
          case DECIMAL -> {
            min = ((Decimal) minO[j]).toJavaBigDecimal().toPlainString();
            max = ((Decimal) maxO[j]).toJavaBigDecimal().toPlainString();
          }
          default -> {
            UTF8String lo = (UTF8String) minO[j];
            UTF8String hi = (UTF8String) maxO[j];
            // A prefix is still a lower bound; a truncated maximum would not be an upper one.
            min =
                lo.numBytes() > MAX_STRING_BYTES
                    ? lo.substring(0, MAX_STRING_BYTES / 4).toString()
                    : lo.toString();
            max = hi.numBytes() > MAX_STRING_BYTES ? null : hi.toString();
            // Text that does not survive decoding (invalid UTF-8) would compare differently.
            if (!UTF8String.fromString(min).binaryEquals(lo) && lo.numBytes() <= MAX_STRING_BYTES) {
              min = null;
            }
            if (max != null && !UTF8String.fromString(max).binaryEquals(hi)) {
              max = null;
            }
          }
        }
        out.put(names[j], new ColumnStats(min, max, nulls[j]));
      }
      return out;
    }
  }

  private static long longValue(InternalRow row, int o, DataType t) {
    if (t instanceof ByteType) {
      return row.getByte(o);
    } else if (t instanceof ShortType) {
      return row.getShort(o);
    } else if (t instanceof IntegerType || t instanceof DateType) {
      return row.getInt(o);
    } else if (t instanceof BooleanType) {
      return row.getBoolean(o) ? 1 : 0;
    }
    return row.getLong(o);
  }

  // ---- driver side: may a file hold a row for which a condition is TRUE? ----------------------

  /** Whether some row of {@code file} may satisfy every one of {@code predicates}. */
  static boolean mayMatch(List<Predicate> predicates, AddFile file, StructType schema) {
    for (Predicate p : predicates) {
      if (!mayMatch(p, file, schema)) {
        return false;
      }
    }
    return true;
  }

  static boolean mayMatch(Predicate p, AddFile file, StructType schema) {
    Expression[] c = p.children();
    switch (p.name()) {
      case "ALWAYS_FALSE":
        return false;
      case "AND":
        return mayMatch((Predicate) c[0], file, schema) && mayMatch((Predicate) c[1], file, schema);
      case "OR":
        return mayMatch((Predicate) c[0], file, schema) || mayMatch((Predicate) c[1], file, schema);
      case "IS_NULL":
      case "IS_NOT_NULL":
        {
          Range r = range(c[0], file, schema);
          if (r == null) {
            return true;
          }
          return p.name().equals("IS_NULL") ? r.nulls > 0 : r.nulls < file.rows();
        }
      case "=":
      case "<=>":
      case "<":
      case "<=":
      case ">":
      case ">=":
      case "<>":
        {
          boolean flipped = !(c[0] instanceof NamedReference) && c[1] instanceof NamedReference;
          Expression col = flipped ? c[1] : c[0];
          Expression lit = flipped ? c[0] : c[1];
          String op = flipped ? flip(p.name()) : p.name();
          Range r = range(col, file, schema);
          if (r == null || !(lit instanceof Literal<?> l)) {
            return true;
          }
          if (l.value() == null) {
            // NULL compares to nothing (only <=> NULL holds, for null values).
            return op.equals("<=>") ? r.nulls > 0 : false;
          }
          if (!l.dataType().sameType(r.type)) {
            return true;
          }
          return compare(op, r, l.value(), file.rows());
        }
      case "IN":
        {
          Range r = range(c[0], file, schema);
          if (r == null) {
            return true;
          }
          for (int i = 1; i < c.length; i++) {
            if (!(c[i] instanceof Literal<?> l)) {
              return true;
            }
            if (l.value() != null
                && (!l.dataType().sameType(r.type) || compare("=", r, l.value(), file.rows()))) {
              return true;
            }
          }
          return false;
        }
      default:
        return true;
    }
  }

  private static String flip(String op) {
    return switch (op) {
      case "<" -> ">";
      case "<=" -> ">=";
      case ">" -> "<";
      case ">=" -> "<=";
      default -> op;
    };
  }

  /** What a file holds in one column: bounds as comparable values (null when unknown). */
  private record Range(DataType type, Comparable<Object> min, Comparable<Object> max, long nulls) {}

  private static Range range(Expression e, AddFile file, StructType schema) {
    if (!(e instanceof NamedReference ref) || ref.fieldNames().length != 1) {
      return null;
    }
    int i = columnIndex(schema, ref.fieldNames()[0]);
    if (i < 0) {
      return null;
    }
    StructField field = schema.fields()[i];
    Kind kind = kind(field.dataType());
    if (kind == null) {
      return null;
    }
    String min;
    String max;
    long nulls;
    if (file.partition() != null && file.partition().containsKey(field.name())) {
      String v = file.partition().get(field.name());
      if (v == null) {
        return new Range(field.dataType(), null, null, file.rows());
      }
      min = partitionText(v, field.dataType());
      if (min == null) {
        return null;
      }
      max = min;
      nulls = 0;
    } else {
      ColumnStats s = file.stats() == null ? null : file.stats().get(field.name());
      if (s == null) {
        return null; // a file written before statistics, or a column added since
      }
      min = s.min();
      max = s.max();
      nulls = s.nulls();
    }
    return new Range(field.dataType(), parse(min, kind), parse(max, kind), nulls);
  }

  /**
   * The column {@code name} refers to: the one spelled exactly so, else the only one spelled so
   * ignoring case; -1 when none or several (a case-sensitive session may have both).
   */
  private static int columnIndex(StructType schema, String name) {
    StructField[] fields = schema.fields();
    int found = -1;
    for (int i = 0; i < fields.length; i++) {
      if (fields[i].name().equals(name)) {
        return i;
      }
      if (fields[i].name().equalsIgnoreCase(name)) {
        if (found >= 0) {
          return -1;
        }
        found = i;
      }
    }
    return found;
  }

  /** A partition folder's value in the statistics' text form, or null if not comparable. */
  private static String partitionText(String v, DataType t) {
    try {
      if (t instanceof DateType) {
        return Long.toString(java.time.LocalDate.parse(v).toEpochDay());
      } else if (t instanceof BooleanType) {
        return Boolean.parseBoolean(v) ? "1" : "0";
      }
      return v;
    } catch (RuntimeException e) {
      return null;
    }
  }

  @SuppressWarnings("unchecked")
  private static Comparable<Object> parse(String text, Kind kind) {
    if (text == null) {
      return null;
    }
    Comparable<?> c =
        switch (kind) {
          case LONG -> Long.parseLong(text);
          case DECIMAL -> new BigDecimal(text);
          case STRING -> new BinaryString(UTF8String.fromString(text));
        };
    return (Comparable<Object>) c;
  }

  /** Strings ordered byte for byte, as Spark orders the default collation. */
  private record BinaryString(UTF8String s) implements Comparable<BinaryString> {
    @Override
    public int compareTo(BinaryString o) {
      return s.binaryCompare(o.s);
    }
  }

  @SuppressWarnings("unchecked")
  private static Comparable<Object> literal(Object v, DataType t) {
    Comparable<?> c;
    if (v instanceof UTF8String s) {
      c = new BinaryString(s);
    } else if (v instanceof Decimal d) {
      c = d.toJavaBigDecimal();
    } else if (v instanceof Boolean b) {
      c = b ? 1L : 0L;
    } else if (v instanceof Number n && !(t instanceof DecimalType)) {
      c = n.longValue();
    } else {
      return null;
    }
    return (Comparable<Object>) c;
  }

  private static boolean compare(String op, Range r, Object value, long rows) {
    if (r.nulls >= rows) {
      return false; // only nulls: no comparison with a value is TRUE
    }
    Comparable<Object> v = literal(value, r.type);
    if (v == null) {
      return true;
    }
    Comparable<Object> min = r.min;
    Comparable<Object> max = r.max;
    return switch (op) {
      case "=", "<=>" ->
          (min == null || min.compareTo(v) <= 0) && (max == null || max.compareTo(v) >= 0);
      case "<" -> min == null || min.compareTo(v) < 0;
      case "<=" -> min == null || min.compareTo(v) <= 0;
      case ">" -> max == null || max.compareTo(v) > 0;
      case ">=" -> max == null || max.compareTo(v) >= 0;
      case "<>" -> min == null || max == null || min.compareTo(v) != 0 || max.compareTo(v) != 0;
      default -> true;
    };
  }
}
