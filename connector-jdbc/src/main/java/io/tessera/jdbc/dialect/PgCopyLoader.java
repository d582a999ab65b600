package io.tessera.jdbc.dialect;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.DateTimeUtils;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Streams rows with {@code COPY ... FROM STDIN} in PostgreSQL's text format through a fixed 64 KiB
 * buffer, sent whenever it is full (even mid-row), so neither a partition nor one huge value is
 * ever held in memory. Instants (TIMESTAMP) are sent in UTC with an explicit {@code +00} offset,
 * whatever the executor JVM's zone; wall-clock times (TIMESTAMP_NTZ) and dates as they are. Years
 * above 9999 and before year 1 use PostgreSQL's own notation ({@code 10000-...}, {@code ... BC}).
 */
final class PgCopyLoader implements BulkLoader {
  private static final int BUFFER = 1 << 16;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private final CopyIn copy;
  private final Field[] fields;
  private final byte[] attemptSuffix;

  /** Never grows: when full it is sent, mid-row if need be (COPY is a byte stream). */
  private final byte[] buf = new byte[BUFFER];

  private int len;
  private long rows;
  private long bytes;

  private record Field(String name, DataType type, DecimalType decimal) {}

  PgCopyLoader(
      JdbcDialect dialect,
      Connection connection,
      String qualifiedTable,
      StructType schema,
      Long attempt)
      throws SQLException {
    StructField[] fs = schema.fields();
    String columns =
        Arrays.stream(fs).map(f -> dialect.quote(f.name())).collect(Collectors.joining(", "));
    if (attempt != null) {
      columns += ", " + dialect.quote(JdbcDialect.ATTEMPT_COLUMN);
    }
    this.fields = new Field[fs.length];
    for (int i = 0; i < fs.length; i++) {
      DataType t = fs[i].dataType();
      fields[i] = new Field(fs[i].name(), t, t instanceof DecimalType d ? d : null);
    }
    this.attemptSuffix =
        attempt == null ? null : ("\t" + attempt).getBytes(StandardCharsets.US_ASCII);
    this.copy =
        connection
            .unwrap(PGConnection.class)
            .getCopyAPI()
            .copyIn("COPY " + qualifiedTable + " (" + columns + ") FROM STDIN");
  }

  @Override
  public void add(InternalRow row) throws SQLException {
    for (int i = 0; i < fields.length; i++) {
      if (i > 0) {
        put((byte) '\t');
      }
      if (row.isNullAt(i)) {
        put((byte) '\\');
        put((byte) 'N');
      } else {
        encode(fields[i], row, i);
      }
    }
    if (attemptSuffix != null) {
      put(attemptSuffix);
    }
    put((byte) '\n');
    rows++;
  }

  private void encode(Field f, InternalRow row, int i) throws SQLException {
    DataType t = f.type();
    if (t.equals(DataTypes.StringType)) {
      putEscaped(f.name(), row.getUTF8String(i));
    } else if (t.equals(DataTypes.IntegerType)) {
      putAscii(Integer.toString(row.getInt(i)));
    } else if (t.equals(DataTypes.LongType)) {
      putAscii(Long.toString(row.getLong(i)));
    } else if (t.equals(DataTypes.DoubleType)) {
      putAscii(Double.toString(row.getDouble(i)));
    } else if (t.equals(DataTypes.BooleanType)) {
      put(row.getBoolean(i) ? (byte) 't' : (byte) 'f');
    } else if (t.equals(DataTypes.TimestampType)) {
      putAscii(
          pgTimestamp(
                  java.time.LocalDateTime.ofInstant(
                      DateTimeUtils.microsToInstant(row.getLong(i)), java.time.ZoneOffset.UTC))
              + "+00");
    } else if (t.equals(DataTypes.TimestampNTZType)) {
      putAscii(pgTimestamp(DateTimeUtils.microsToLocalDateTime(row.getLong(i))));
    } else if (t.equals(DataTypes.DateType)) {
      putAscii(pgDate(java.time.LocalDate.ofEpochDay(row.getInt(i))));
    } else if (f.decimal() != null) {
      putAscii(
          row.getDecimal(i, f.decimal().precision(), f.decimal().scale())
              .toJavaBigDecimal()
              .toPlainString());
    } else if (t.equals(DataTypes.ShortType)) {
      putAscii(Short.toString(row.getShort(i)));
    } else if (t.equals(DataTypes.ByteType)) {
      putAscii(Byte.toString(row.getByte(i)));
    } else if (t.equals(DataTypes.FloatType)) {
      putAscii(Float.toString(row.getFloat(i)));
    } else if (t.equals(DataTypes.BinaryType)) {
      byte[] b = row.getBinary(i);
      // bytea hex input "\x...", with the backslash escaped for COPY's text format.
      put((byte) '\\');
      put((byte) '\\');
      put((byte) 'x');
      for (byte x : b) {
        put(HEX[(x >> 4) & 0xf]);
        put(HEX[x & 0xf]);
      }
    } else {
      throw new IllegalArgumentException("No COPY encoding for " + t.sql());
    }
  }

  private void putEscaped(String column, UTF8String s) throws SQLException {
    byte[] b = s.getBytes();
    for (byte c : b) {
      switch (c) {
        case 0 -> throw nulCharacter(column, s);
        case '\\' -> {
          put((byte) '\\');
          put((byte) '\\');
        }
        case '\n' -> {
          put((byte) '\\');
          put((byte) 'n');
        }
        case '\r' -> {
          put((byte) '\\');
          put((byte) 'r');
        }
        case '\t' -> {
          put((byte) '\\');
          put((byte) 't');
        }
        default -> put(c);
      }
    }
  }

  /** PostgreSQL text cannot hold U+0000; say so instead of COPY's "invalid byte sequence". */
  private static TesseraException nulCharacter(String column, UTF8String value) {
    String v = value.toString();
    String preview = (v.length() > 40 ? v.substring(0, 40) + "..." : v).replace("\0", "\\u0000");
    return new TesseraException(
        TesseraError.UNSUPPORTED_TYPE,
        "Column '"
            + column
            + "' has the value '"
            + preview
            + "' with a NUL character (\\u0000), which PostgreSQL text cannot store; remove it"
            + " before writing, e.g. translate("
            + column
            + ", char(0), '')");
  }

  /** {@code yyyy-mm-dd[ BC]} as PostgreSQL reads it (year 0 is 1 BC). */
  static String pgDate(java.time.LocalDate d) {
    StringBuilder sb = new StringBuilder(16);
    appendDate(sb, d);
    if (d.getYear() <= 0) {
      sb.append(" BC");
    }
    return sb.toString();
  }

  /**
   * {@code yyyy-mm-dd hh:mm:ss.ffffff[ BC]} as PostgreSQL reads it. Built by hand: it runs for
   * every timestamp of every row, and String.format cost a third of the load time.
   */
  static String pgTimestamp(java.time.LocalDateTime t) {
    StringBuilder sb = new StringBuilder(32);
    appendDate(sb, t.toLocalDate());
    sb.append(' ');
    pad(sb, t.getHour(), 2).append(':');
    pad(sb, t.getMinute(), 2).append(':');
    pad(sb, t.getSecond(), 2).append('.');
    pad(sb, t.getNano() / 1000, 6);
    if (t.getYear() <= 0) {
      sb.append(" BC");
    }
    return sb.toString();
  }

  private static void appendDate(StringBuilder sb, java.time.LocalDate d) {
    int y = d.getYear();
    pad(sb, y > 0 ? y : 1 - y, 4).append('-');
    pad(sb, d.getMonthValue(), 2).append('-');
    pad(sb, d.getDayOfMonth(), 2);
  }

  private static StringBuilder pad(StringBuilder sb, int value, int width) {
    String v = Integer.toString(value);
    for (int k = v.length(); k < width; k++) {
      sb.append('0');
    }
    return sb.append(v);
  }

  private void putAscii(String s) throws SQLException {
    for (int k = 0; k < s.length(); k++) {
      put((byte) s.charAt(k));
    }
  }

  private void put(byte[] b) throws SQLException {
    for (byte x : b) {
      put(x);
    }
  }

  private void put(byte b) throws SQLException {
    if (len == buf.length) {
      send();
    }
    buf[len++] = b;
  }

  private void send() throws SQLException {
    if (len > 0) {
      copy.writeToCopy(buf, 0, len);
      bytes += len;
      len = 0;
    }
  }

  @Override
  public void flush() throws SQLException {
    send();
    if (copy.isActive()) {
      copy.endCopy();
    }
  }

  @Override
  public void cancel() {
    try {
      if (copy.isActive()) {
        copy.cancelCopy();
      }
    } catch (SQLException ignored) {
      // The connection is rolled back and closed next.
    }
  }

  @Override
  public long rows() {
    return rows;
  }

  @Override
  public long bytes() {
    return bytes + len;
  }
}
