package io.tessera.jdbc.dialect;

import java.io.Serializable;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.apache.spark.sql.catalyst.expressions.SpecializedGetters;
import org.apache.spark.sql.catalyst.util.DateTimeUtils;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Binds Spark's internal values to JDBC parameters. Dates and timestamps go through {@code
 * java.time} (proleptic Gregorian, as Spark), never {@code java.sql.Date}/{@code Timestamp}, whose
 * hybrid Julian calendar moves dates of October 1582 and before by days. How an instant (Spark
 * TIMESTAMP) is bound is the dialect's choice ({@link JdbcDialect#instantParameter}).
 */
public final class ValueBinder {
  private ValueBinder() {}

  /** Sets parameter {@code index} from field {@code ordinal} of {@code row}. */
  @FunctionalInterface
  public interface Setter extends Serializable {
    void set(PreparedStatement ps, int index, SpecializedGetters row, int ordinal)
        throws SQLException;
  }

  /** A null-aware setter for {@code type}; {@code type} must be one the dialects accept. */
  public static Setter setter(DataType type) {
    return nullAware(type, valueSetter(type));
  }

  /** {@code value}, or SQL NULL of {@code type}'s JDBC type for a null field. */
  public static Setter nullAware(DataType type, Setter value) {
    int sqlType = sqlType(type);
    return (ps, i, row, ord) -> {
      if (row.isNullAt(ord)) {
        ps.setNull(i, sqlType);
      } else {
        value.set(ps, i, row, ord);
      }
    };
  }

  private static Setter valueSetter(DataType type) {
    if (type.equals(DataTypes.BooleanType)) {
      return (ps, i, r, o) -> ps.setBoolean(i, r.getBoolean(o));
    } else if (type.equals(DataTypes.ByteType)) {
      return (ps, i, r, o) -> ps.setShort(i, r.getByte(o));
    } else if (type.equals(DataTypes.ShortType)) {
      return (ps, i, r, o) -> ps.setShort(i, r.getShort(o));
    } else if (type.equals(DataTypes.IntegerType)) {
      return (ps, i, r, o) -> ps.setInt(i, r.getInt(o));
    } else if (type.equals(DataTypes.LongType)) {
      return (ps, i, r, o) -> ps.setLong(i, r.getLong(o));
    } else if (type.equals(DataTypes.FloatType)) {
      return (ps, i, r, o) -> ps.setFloat(i, r.getFloat(o));
    } else if (type.equals(DataTypes.DoubleType)) {
      return (ps, i, r, o) -> ps.setDouble(i, r.getDouble(o));
    } else if (type instanceof DecimalType d) {
      int p = d.precision();
      int s = d.scale();
      return (ps, i, r, o) -> ps.setBigDecimal(i, r.getDecimal(o, p, s).toJavaBigDecimal());
    } else if (type.equals(DataTypes.StringType)) {
      return (ps, i, r, o) -> ps.setString(i, r.getUTF8String(o).toString());
    } else if (type.equals(DataTypes.BinaryType)) {
      return (ps, i, r, o) -> ps.setBytes(i, r.getBinary(o));
    } else if (type.equals(DataTypes.DateType)) {
      return (ps, i, r, o) -> ps.setObject(i, LocalDate.ofEpochDay(r.getInt(o)));
    } else if (type.equals(DataTypes.TimestampType)) {
      return (ps, i, r, o) ->
          ps.setObject(
              i,
              OffsetDateTime.ofInstant(
                  DateTimeUtils.microsToInstant(r.getLong(o)), ZoneOffset.UTC));
    } else if (type.equals(DataTypes.TimestampNTZType)) {
      return (ps, i, r, o) -> ps.setObject(i, DateTimeUtils.microsToLocalDateTime(r.getLong(o)));
    }
    throw new IllegalArgumentException("No JDBC binding for " + type.sql());
  }

  /** The JDBC value of a Spark internal value (for predicate literals). */
  public static Object toJdbc(DataType type, Object internal) {
    if (internal == null) {
      return null;
    } else if (internal instanceof UTF8String s) {
      return s.toString();
    } else if (internal instanceof Decimal d) {
      return d.toJavaBigDecimal();
    } else if (type.equals(DataTypes.DateType)) {
      return LocalDate.ofEpochDay((Integer) internal);
    } else if (type.equals(DataTypes.TimestampType)) {
      return OffsetDateTime.ofInstant(
          DateTimeUtils.microsToInstant((Long) internal), ZoneOffset.UTC);
    } else if (type.equals(DataTypes.TimestampNTZType)) {
      return DateTimeUtils.microsToLocalDateTime((Long) internal);
    } else if (type.equals(DataTypes.ByteType)) {
      return ((Byte) internal).shortValue();
    }
    return internal;
  }

  static int sqlType(DataType type) {
    if (type.equals(DataTypes.BooleanType)) {
      return Types.BOOLEAN;
    } else if (type.equals(DataTypes.ByteType) || type.equals(DataTypes.ShortType)) {
      return Types.SMALLINT;
    } else if (type.equals(DataTypes.IntegerType)) {
      return Types.INTEGER;
    } else if (type.equals(DataTypes.LongType)) {
      return Types.BIGINT;
    } else if (type.equals(DataTypes.FloatType)) {
      return Types.REAL;
    } else if (type.equals(DataTypes.DoubleType)) {
      return Types.DOUBLE;
    } else if (type instanceof DecimalType) {
      return Types.DECIMAL;
    } else if (type.equals(DataTypes.StringType)) {
      return Types.VARCHAR;
    } else if (type.equals(DataTypes.BinaryType)) {
      return Types.VARBINARY;
    } else if (type.equals(DataTypes.DateType)) {
      return Types.DATE;
    } else if (type.equals(DataTypes.TimestampType)) {
      return Types.TIMESTAMP;
    } else if (type.equals(DataTypes.TimestampNTZType)) {
      return Types.TIMESTAMP;
    }
    return Types.OTHER;
  }

  /** A rough payload size of field {@code ordinal}, for the bytes-written metric. */
  public static long estimateBytes(DataType type, SpecializedGetters row, int ordinal) {
    if (row.isNullAt(ordinal)) {
      return 1;
    } else if (type.equals(DataTypes.StringType)) {
      return row.getUTF8String(ordinal).numBytes();
    } else if (type.equals(DataTypes.BinaryType)) {
      return row.getBinary(ordinal).length;
    }
    return type.defaultSize();
  }
}
