package io.tessera.jdbc.dialect;

import io.tessera.common.errors.TesseraErrors;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Owns every piece of SQL text Tessera sends to one kind of database. Identifiers always go through
 * {@link #quote}, which escapes embedded quote characters; values are always bound as parameters
 * (the only literals are Tessera's own, through {@link #stringLiteral}). Database differences are
 * small overrides of the protected hooks. Chosen by {@link #acceptsUrl} through {@link
 * java.util.ServiceLoader}, see {@link JdbcDialects}.
 *
 * <p>Serializable and stateless: shipped to executors inside the writer factory.
 */
public abstract class JdbcDialect implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The column that tags each staged row with the task attempt that wrote it. */
  public static final String ATTEMPT_COLUMN = "__tessera_attempt";

  /** Prefix of every staging table Tessera creates; cleanup recognises them by it. */
  public static final String STAGING_PREFIX = "tessera_stg_";

  /**
   * Prefix of an old table while a CTAS / RTAS replaces it. Never dropped by cleanup: after a
   * failed best-effort swap it can be the only copy of the old table.
   */
  public static final String REPLACED_PREFIX = "tessera_old_";

  /**
   * Tessera's lock table, one per schema, created on demand on databases without a table lock that
   * blocks writers but not readers: one row per target table, updated at the start of each publish
   * so that concurrent publishes of one table queue (see {@link #lockTarget}).
   */
  public static final String LOCK_TABLE = "tessera_locks";

  /**
   * The ledger of Tessera versions before per-user ledgers: still hidden from {@code SHOW TABLES},
   * its rows are the evidence of writes whose outcome was reported unknown.
   */
  public static final String LEGACY_LEDGER_TABLE = "tessera_ledger";

  /**
   * Prefix of Tessera's ledgers: one per database user and schema, created on demand by that user
   * (so it owns it and no other user needs, or on PostgreSQL and H2 without schema-wide rights
   * gets, any privilege on it). Every atomic publish inserts its write id in the same transaction,
   * so whether a COMMIT whose answer was lost happened can be looked up for certain. See {@link
   * #ledgerTableName}.
   */
  public static final String LEDGER_PREFIX = "tessera_ledger_";

  /**
   * The field metadata key under which Spark keeps a CHAR(n)/VARCHAR(n) column's type when it hands
   * the column over as STRING (Spark's CharVarcharUtils).
   */
  public static final String CHAR_VARCHAR_TYPE_KEY = "__CHAR_VARCHAR_TYPE_STRING";

  /** Spark types Tessera can write, for error messages. */
  public static final Set<String> SUPPORTED_TYPES =
      Set.of(
          "BOOLEAN",
          "TINYINT",
          "SMALLINT",
          "INT",
          "BIGINT",
          "FLOAT",
          "DOUBLE",
          "DECIMAL(p,s)",
          "STRING",
          "BINARY",
          "DATE",
          "TIMESTAMP",
          "TIMESTAMP_NTZ");

  public abstract String name();

  public abstract boolean acceptsUrl(String url);

  /**
   * The JDBC driver class, handed to Spark's reader and loaded directly by Tessera: a driver that
   * arrives with {@code spark-submit --packages} lives in Spark's user class loader, which {@link
   * java.sql.DriverManager} does not search ("No suitable driver").
   */
  public abstract String driverClass();

  /** Options Tessera gives Spark's JDBC reader for this database, besides the connection. */
  public java.util.Map<String, String> sparkReaderOptions() {
    return java.util.Map.of();
  }

  /**
   * The URL handed to Spark's own JDBC reader, which picks its Spark dialect (quoting, type
   * mapping, push-down) by URL prefix on the driver and on every executor.
   */
  public String sparkReaderUrl(String url) {
    return url;
  }

  /** MariaDB/MySQL call a schema a database and expose it as a JDBC catalog. */
  public boolean schemasAreCatalogs() {
    return false;
  }

  protected char quoteChar() {
    return '"';
  }

  /** {@code identifier} quoted, embedded quote characters doubled. */
  public String quote(String identifier) {
    String q = String.valueOf(quoteChar());
    return q + identifier.replace(q, q + q) + q;
  }

  /** {@code schema.table}, both quoted; {@code schema} may be null. */
  public String qualified(String schema, String table) {
    return schema == null ? quote(table) : quote(schema) + "." + quote(table);
  }

  /** A string literal for Tessera's own metadata values (never user data). */
  public String stringLiteral(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  /** The column type this database stores {@code type} as; fails clearly for other types. */
  public String columnType(String column, DataType type) {
    String sql = columnTypeOrNull(type);
    if (sql == null) {
      throw TesseraErrors.unsupportedType(
          "tessera-jdbc (" + name() + ")", column, type.sql(), SUPPORTED_TYPES);
    }
    return sql;
  }

  /** Fails before any task runs if a column of {@code schema} cannot be written. */
  public void checkWritable(StructType schema) {
    for (StructField f : schema.fields()) {
      columnType(f.name(), f.dataType());
    }
  }

  protected String columnTypeOrNull(DataType type) {
    if (type.equals(DataTypes.BooleanType)) {
      return "BOOLEAN";
    } else if (type.equals(DataTypes.ByteType)) {
      return "SMALLINT";
    } else if (type.equals(DataTypes.ShortType)) {
      return "SMALLINT";
    } else if (type.equals(DataTypes.IntegerType)) {
      return "INTEGER";
    } else if (type.equals(DataTypes.LongType)) {
      return "BIGINT";
    } else if (type.equals(DataTypes.FloatType)) {
      return "REAL";
    } else if (type.equals(DataTypes.DoubleType)) {
      return "DOUBLE PRECISION";
    } else if (type instanceof DecimalType d) {
      return "DECIMAL(" + d.precision() + "," + d.scale() + ")";
    } else if (type.equals(DataTypes.StringType)) {
      return stringType();
    } else if (type instanceof org.apache.spark.sql.types.VarcharType v) {
      return v.length() <= maxVarcharLength() ? "VARCHAR(" + v.length() + ")" : stringType();
    } else if (type instanceof org.apache.spark.sql.types.CharType c) {
      return c.length() <= maxCharLength() ? "CHAR(" + c.length() + ")" : stringType();
    } else if (type.equals(DataTypes.BinaryType)) {
      return binaryType();
    } else if (type.equals(DataTypes.DateType)) {
      return "DATE";
    } else if (type.equals(DataTypes.TimestampType)) {
      return timestampType();
    } else if (type.equals(DataTypes.TimestampNTZType)) {
      return timestampNtzType();
    }
    return null;
  }

  protected abstract String stringType();

  /**
   * The longest {@code VARCHAR(n)} created as such (e.g. by a CTAS from a table read with a VARCHAR
   * column); longer ones become {@link #stringType()}, without the length limit.
   */
  protected int maxVarcharLength() {
    return 1_000_000_000;
  }

  /** The longest {@code CHAR(n)} created as such; longer ones become {@link #stringType()}. */
  protected int maxCharLength() {
    return 1_000_000_000;
  }

  protected abstract String binaryType();

  /** A type that keeps an instant (Spark's TIMESTAMP). */
  protected abstract String timestampType();

  /** A type that keeps a local date-time (Spark's TIMESTAMP_NTZ). */
  protected String timestampNtzType() {
    return "TIMESTAMP";
  }

  public String createTable(String qualifiedTable, StructType schema) {
    String cols =
        java.util.Arrays.stream(schema.fields())
            .map(
                f ->
                    quote(f.name())
                        + " "
                        + columnType(f.name(), f.dataType())
                        + (f.nullable() ? "" : " NOT NULL"))
            .collect(Collectors.joining(", "));
    return "CREATE TABLE " + qualifiedTable + " (" + cols + ")";
  }

  /** Sets the table comment, where Tessera keeps its table properties. */
  public String setTableComment(String qualifiedTable, String comment) {
    return "COMMENT ON TABLE " + qualifiedTable + " IS " + stringLiteral(comment);
  }

  /**
   * The write schema with CHAR(n)/VARCHAR(n) columns as STRING. Spark checks their lengths before
   * rows reach a writer, and hands them over as strings; with {@code
   * spark.sql.preserveCharVarcharTypeInfo=true} the types stay in the schema and would otherwise
   * find no binding. Each such column keeps its type under {@link #CHAR_VARCHAR_TYPE_KEY}, taken
   * from the table's schema where the write schema lacks it (Spark drops it there), because CHAR
   * columns compare padded (see {@link #sparkComparableChar}).
   */
  public static StructType withPlainStrings(StructType schema, StructType tableSchema) {
    StructType plain = withPlainStrings(schema);
    StructField[] fields = plain.fields();
    java.util.Map<String, StructField> exact = new java.util.HashMap<>();
    java.util.Map<String, StructField> folded = new java.util.HashMap<>();
    for (StructField f : withPlainStrings(tableSchema).fields()) {
      exact.put(f.name(), f);
      folded.putIfAbsent(f.name().toLowerCase(Locale.ROOT), f);
    }
    for (int i = 0; i < fields.length; i++) {
      StructField t = exact.get(fields[i].name());
      if (t == null) {
        t = folded.get(fields[i].name().toLowerCase(Locale.ROOT));
      }
      if (!fields[i].metadata().contains(CHAR_VARCHAR_TYPE_KEY)
          && t != null
          && t.metadata().contains(CHAR_VARCHAR_TYPE_KEY)) {
        fields[i] =
            new StructField(
                fields[i].name(),
                fields[i].dataType(),
                fields[i].nullable(),
                new org.apache.spark.sql.types.MetadataBuilder()
                    .withMetadata(fields[i].metadata())
                    .putString(CHAR_VARCHAR_TYPE_KEY, t.metadata().getString(CHAR_VARCHAR_TYPE_KEY))
                    .build());
      }
    }
    return new StructType(fields);
  }

  public static StructType withPlainStrings(StructType schema) {
    StructField[] fields = schema.fields().clone();
    for (int i = 0; i < fields.length; i++) {
      DataType t = fields[i].dataType();
      if (t instanceof org.apache.spark.sql.types.CharType
          || t instanceof org.apache.spark.sql.types.VarcharType) {
        // Keep the original type where Spark keeps it when it replaces the type itself.
        org.apache.spark.sql.types.Metadata metadata =
            new org.apache.spark.sql.types.MetadataBuilder()
                .withMetadata(fields[i].metadata())
                .putString(JdbcDialect.CHAR_VARCHAR_TYPE_KEY, t.catalogString())
                .build();
        fields[i] =
            new StructField(fields[i].name(), DataTypes.StringType, fields[i].nullable(), metadata);
      }
    }
    return new StructType(fields);
  }

  /** Whether {@link #createStagingTableChoices} looks at the server (costs a connection). */
  public boolean choosesStagingByServer() {
    return false;
  }

  /**
   * The ways to create the staging table, best first: the write uses the first one the server
   * accepts. {@code c} lets a dialect look at the server and the target ({@code schema}.{@code
   * table}, unquoted) before choosing.
   */
  public List<List<String>> createStagingTableChoices(
      Connection c, String schema, String table, String qualifiedStaging, String qualifiedTarget) {
    return List.of(createStagingTable(qualifiedStaging, qualifiedTarget));
  }

  /**
   * Creates an empty staging table with the target's column types but none of its constraints or
   * indexes (a retried attempt's rows must not collide with a failed attempt's), plus {@link
   * #ATTEMPT_COLUMN}.
   */
  public List<String> createStagingTable(String qualifiedStaging, String qualifiedTarget) {
    return List.of(
        "CREATE TABLE "
            + qualifiedStaging
            + " AS SELECT * FROM "
            + qualifiedTarget
            + " WITH NO DATA",
        addAttemptColumn(qualifiedStaging));
  }

  /**
   * Whether {@code e} is a DDL statement that gave up waiting for a lock and may simply be run
   * again (see {@code H2Dialect}); false by default.
   */
  public boolean isDdlLockTimeout(Throwable e) {
    return false;
  }

  /**
   * {@code qualifier.attempt IN (?, ...)} for {@code n} attempt ids: the staged rows of the
   * attempts bound to it ({@code qualifier} is the staging table or its alias).
   */
  public String attemptIn(String qualifier, int n) {
    return qualifier
        + "."
        + quote(ATTEMPT_COLUMN)
        + " IN ("
        + String.join(", ", java.util.Collections.nCopies(n, "?"))
        + ")";
  }

  /** Adds a nullable column of SQL type {@code sqlType} to a table Tessera made. */
  public String addColumn(String qualifiedTable, String column, String sqlType) {
    return "ALTER TABLE " + qualifiedTable + " ADD COLUMN " + quote(column) + " " + sqlType;
  }

  protected String addAttemptColumn(String qualifiedStaging) {
    return "ALTER TABLE " + qualifiedStaging + " ADD COLUMN " + quote(ATTEMPT_COLUMN) + " BIGINT";
  }

  /**
   * Session settings run before Tessera's own DDL (staging, ledger and lock tables): DDL of
   * concurrent writes may queue behind each other.
   */
  public List<String> ddlSessionSettings() {
    return List.of();
  }

  /** A session setting that makes statements give up waiting for a lock after {@code seconds}. */
  public String shortLockTimeout(int seconds) {
    return "SET LOCK_TIMEOUT " + seconds * 1000;
  }

  /**
   * The isolation level of the publish transaction, or null for the connection's default. The
   * publish reads only committed attempts' staged rows, so READ COMMITTED is always enough.
   */
  public Integer publishIsolation() {
    return null;
  }

  /**
   * Session settings of the publish's connection and of the one that looks up a lost COMMIT, before
   * their first statement.
   */
  public void preparePublishSession(Connection c) throws SQLException {}

  public String dropTableIfExists(String qualifiedTable) {
    return "DROP TABLE IF EXISTS " + qualifiedTable;
  }

  /** Removes every row, inside the caller's transaction (so never an auto-committing DDL). */
  public String deleteAll(String qualifiedTable) {
    return "DELETE FROM " + qualifiedTable;
  }

  public String renameTable(String schema, String from, String toSchema, String to) {
    return "ALTER TABLE " + qualified(schema, from) + " RENAME TO " + quote(to);
  }

  /** How this database can publish a staged table (CTAS / RTAS) under its final name. */
  public enum TableSwap {
    /** DDL is transactional: renames and the drop of the old table commit together. */
    TRANSACTIONAL_DDL,
    /** One statement renames the old table away and the new one in, atomically. */
    ATOMIC_RENAME,
    /** Each DDL statement commits by itself: publication is best effort (with undo). */
    BEST_EFFORT
  }

  public TableSwap tableSwap() {
    return TableSwap.BEST_EFFORT;
  }

  /**
   * Replaces {@code target} by {@code hidden} within {@code schema}, keeping the old table as
   * {@code aside}: one statement for {@link TableSwap#ATOMIC_RENAME}, statements for one
   * transaction for {@link TableSwap#TRANSACTIONAL_DDL}.
   */
  public List<String> swapTables(String schema, String target, String hidden, String aside) {
    return List.of(
        renameTable(schema, target, schema, aside), renameTable(schema, hidden, schema, target));
  }

  /**
   * Whether {@link #lockTarget} locks the target table itself; otherwise it updates the table's row
   * of {@link #LOCK_TABLE} and binds the table name as its one parameter.
   */
  public boolean locksTableItself() {
    return false;
  }

  /**
   * Run first in the publish transaction: makes every other Tessera publish of the same table wait
   * until this transaction ends, so two overwrites end as one of their serial orders (under READ
   * COMMITTED, two DELETE + INSERT transactions can otherwise both keep their rows). Readers are
   * not blocked. {@code replacesRows} is false for an append, which a database with table locks may
   * let run beside other appends (appends commute) but never beside a write that replaces rows.
   */
  public String lockTarget(String schema, String qualifiedTarget, boolean replacesRows) {
    return "UPDATE "
        + qualified(schema, LOCK_TABLE)
        + " SET "
        + quote("writes")
        + " = "
        + quote("writes")
        + " + 1 WHERE "
        + quote("table_name")
        + " = ?";
  }

  /**
   * Run first by the lookup of a lost COMMIT, on a new connection: waits until the transaction
   * whose COMMIT answer was lost has ended, if the server still runs it. By default the target's
   * write lock, which that transaction held.
   */
  public String lockForLookup(String schema, String qualifiedTarget, String qualifiedLedger) {
    return lockTarget(schema, qualifiedTarget, true);
  }

  /** Driver-side before the tasks (each may commit by itself): creates the lock table. */
  public List<String> prepareLockTable(String schema) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS "
            + qualified(schema, LOCK_TABLE)
            + " ("
            + quote("table_name")
            + " VARCHAR(255) NOT NULL PRIMARY KEY, "
            + quote("writes")
            + " BIGINT NOT NULL)");
  }

  /** Driver-side before the tasks: creates the writing user's ledger if it is missing. */
  public String prepareLedgerTable(String qualifiedLedger) {
    return "CREATE TABLE IF NOT EXISTS "
        + qualifiedLedger
        + " ("
        + quote("write_id")
        + " VARCHAR(64) NOT NULL PRIMARY KEY, "
        + quote("table_name")
        + " VARCHAR(255) NOT NULL, "
        + quote("committed_at_ms")
        + " BIGINT NOT NULL, "
        + quote("epoch")
        + " BIGINT)";
  }

  /** Records a write in the ledger; binds write id, table name, time in epoch milliseconds. */
  public String insertLedgerRow(String qualifiedLedger) {
    return "INSERT INTO "
        + qualifiedLedger
        + " ("
        + quote("write_id")
        + ", "
        + quote("table_name")
        + ", "
        + quote("committed_at_ms")
        + ") VALUES (?, ?, ?)";
  }

  /**
   * Records a streaming query's first committed epoch; binds the query's ledger key, table name,
   * time in epoch milliseconds and epoch.
   */
  public String insertEpochRow(String qualifiedLedger) {
    return "INSERT INTO "
        + qualifiedLedger
        + " ("
        + quote("write_id")
        + ", "
        + quote("table_name")
        + ", "
        + quote("committed_at_ms")
        + ", "
        + quote("epoch")
        + ") VALUES (?, ?, ?, ?)";
  }

  /**
   * Moves a streaming query's row to a later epoch (one row per query: only the last committed
   * epoch is kept); binds the epoch, time, ledger key and the epoch again (the row must hold an
   * earlier one, so a concurrent publish of the same epoch updates nothing).
   */
  public String advanceEpochRow(String qualifiedLedger) {
    return "UPDATE "
        + qualifiedLedger
        + " SET "
        + quote("epoch")
        + " = ?, "
        + quote("committed_at_ms")
        + " = ?"
        + ledgerRowOf(qualifiedLedger).substring((" FROM " + qualifiedLedger).length())
        + " AND "
        + quote("epoch")
        + " < ?";
  }

  /** Adds the epoch column to a ledger created before streaming writes existed. */
  public String addEpochColumn(String qualifiedLedger) {
    return "ALTER TABLE " + qualifiedLedger + " ADD COLUMN " + quote("epoch") + " BIGINT";
  }

  /** The last committed epoch of a streaming query; binds its ledger key. */
  public String findEpoch(String qualifiedLedger) {
    return "SELECT " + quote("epoch") + ledgerRowOf(qualifiedLedger);
  }

  /** Finds a write in the ledger; binds the write id. */
  public String findLedgerRow(String qualifiedLedger) {
    return "SELECT 1" + ledgerRowOf(qualifiedLedger);
  }

  /** Deletes a write's ledger row once its writer knows the outcome; binds the write id. */
  public String deleteLedgerRow(String qualifiedLedger) {
    return "DELETE" + ledgerRowOf(qualifiedLedger);
  }

  private String ledgerRowOf(String qualifiedLedger) {
    return " FROM " + qualifiedLedger + " WHERE " + quote("write_id") + " = ?";
  }

  /** The query that returns the database user this session acts as (who owns what it creates). */
  public String currentUserQuery() {
    return "SELECT CURRENT_USER";
  }

  /**
   * The ledger table of {@code databaseUser} (as {@link #currentUserQuery} returns it): {@link
   * #LEDGER_PREFIX}, the user's name made safe (lower case letters, digits, underscores, at most
   * 20) and a checksum of the exact name, so that users whose names differ only in case or in other
   * characters never share a ledger; then a checksum of all that, Tessera's marker (as for staging
   * tables), so that no user's table that merely looks similar is taken for a ledger.
   */
  public static String ledgerTableName(String databaseUser) {
    String user = databaseUser == null ? "" : databaseUser;
    String safe = user.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (safe.length() > 20) {
      safe = safe.substring(0, 20);
    }
    String base = LEDGER_PREFIX + safe + "_" + checksum(user);
    return base + "_" + checksum(base);
  }

  /** Whether {@code name} is a ledger made by {@link #ledgerTableName} (or the legacy one). */
  public static boolean isLedgerTableName(String name) {
    int sep = name.lastIndexOf('_');
    return name.equals(LEGACY_LEDGER_TABLE)
        || name.startsWith(LEDGER_PREFIX)
            && sep > LEDGER_PREFIX.length()
            && name.substring(sep + 1).equals(checksum(name.substring(0, sep)));
  }

  /**
   * SQL that succeeds (and, if it is a query, returns true) only if the session's user holds {@code
   * privilege} (SELECT, INSERT, UPDATE or DELETE) on {@code qualifiedTable}; it changes nothing and
   * is run in a transaction that is rolled back. {@code column} is one of the table's columns. By
   * default a statement that touches no row, which the database checks privileges of like any
   * other; databases with a privilege function override it (no lock is taken then).
   */
  public String privilegeProbe(String privilege, String qualifiedTable, String column) {
    String c = quote(column);
    return switch (privilege) {
      case "SELECT" -> "SELECT " + c + " FROM " + qualifiedTable + " WHERE 1=0";
      case "INSERT" ->
          "INSERT INTO "
              + qualifiedTable
              + " ("
              + c
              + ") SELECT "
              + c
              + " FROM "
              + qualifiedTable
              + " WHERE 1=0";
      case "UPDATE" -> "UPDATE " + qualifiedTable + " SET " + c + " = " + c + " WHERE 1=0";
      case "DELETE" -> "DELETE FROM " + qualifiedTable + " WHERE 1=0";
      default -> throw new IllegalArgumentException(privilege);
    };
  }

  /** Whether {@code e} (or an exception it chains) says the user lacks a privilege. */
  public boolean isPermissionDenied(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      if (permissionDenied(x)) {
        return true;
      }
      if (x.getCause() instanceof SQLException cause && permissionDenied(cause)) {
        return true;
      }
    }
    return false;
  }

  /** SQLSTATE 42501 (insufficient privilege), as PostgreSQL reports it. */
  protected boolean permissionDenied(SQLException e) {
    return "42501".equals(e.getSQLState());
  }

  /** The user as GRANT names it, from what {@link #currentUserQuery} returned. */
  public String grantee(String databaseUser) {
    return quote(databaseUser);
  }

  /** The GRANT that gives {@code grantee} {@code privileges} on {@code qualifiedTable}. */
  public String grantOnTable(String privileges, String qualifiedTable, String grantee) {
    return "GRANT " + privileges + " ON " + qualifiedTable + " TO " + grantee;
  }

  /** The GRANT that lets {@code grantee} create tables in {@code schema}. */
  public String grantCreateIn(String schema, String grantee) {
    return "GRANT CREATE ON SCHEMA " + quote(schema) + " TO " + grantee;
  }

  /**
   * A query returning whether the session's user may drop and rename {@code qualifiedTable} (as a
   * REPLACE TABLE needs) and the table's owner, or null where no privilege check can tell
   * beforehand.
   */
  public String ownershipProbe(String qualifiedTable) {
    return null;
  }

  /**
   * What gives {@code grantee} the right to replace {@code qualifiedTable}, owned by {@code owner}.
   */
  public String grantOwnership(String owner, String qualifiedTable, String grantee) {
    return "ALTER TABLE " + qualifiedTable + " OWNER TO " + grantee;
  }

  /** The privilege {@link #grantCreateIn} gives, in the words of this database. */
  public String createPrivilegeName(String schema) {
    return "CREATE on schema " + quote(schema);
  }

  /** Finds the table's row of the lock table without locking it; binds the table name. */
  public String findLockRow(String schema) {
    return "SELECT 1 FROM "
        + qualified(schema, LOCK_TABLE)
        + " WHERE "
        + quote("table_name")
        + " = ?";
  }

  /** Adds the table's row to the lock table; binds the table name; may fail if it exists. */
  public String insertLockRow(String schema) {
    return "INSERT INTO "
        + qualified(schema, LOCK_TABLE)
        + " ("
        + quote("table_name")
        + ", "
        + quote("writes")
        + ") VALUES (?, 0)";
  }

  public String createSchema(String schema) {
    return "CREATE SCHEMA " + quote(schema);
  }

  public String dropSchema(String schema, boolean cascade) {
    return "DROP SCHEMA " + quote(schema) + (cascade ? " CASCADE" : "");
  }

  /**
   * {@code sqlExpr} (a string column or parameter) in a form that compares as Spark compares
   * strings: by their UTF-8 bytes, case, accents and trailing spaces significant. H2 compares
   * VARCHAR values exactly already.
   */
  public String sparkComparableString(String sqlExpr) {
    return sqlExpr;
  }

  /**
   * As {@link #sparkComparableString}, for a CHAR({@code length}) column: Spark compares such
   * values padded with spaces to their length (and pads the literals it compares them with).
   */
  public String sparkComparableChar(String sqlExpr, int length) {
    return sparkComparableString(sqlExpr);
  }

  /**
   * Why {@code schema.table} cannot be published atomically (a storage engine without
   * transactions), or null when it can.
   */
  public String nonTransactionalReason(Connection c, String schema, String table)
      throws SQLException {
    return null;
  }

  /**
   * Whether a dynamic overwrite reads the distinct keys to the driver and deletes by bound lists,
   * because the database would run {@code DELETE ... WHERE (keys) IN (SELECT DISTINCT ...)} row by
   * row.
   */
  public boolean listsOverwrittenKeys() {
    return false;
  }

  /** The staged column that tells a row-level operation's delete, update and insert apart. */
  public static final String OPERATION_COLUMN = "__tessera_op";

  /**
   * The hidden column through which a row-level operation's scan reads each row's version: see
   * {@link #rowVersion}.
   */
  public static final String ROW_VERSION_COLUMN = "__tessera_row_version";

  /**
   * The name under which a row-level operation's scan reads a row's version (a metadata column of
   * the table). By default {@link #ROW_VERSION_COLUMN}, computed by {@link #rowVersionSource}.
   */
  public String rowVersionColumn() {
    return ROW_VERSION_COLUMN;
  }

  /** The Spark type of {@link #rowVersionColumn}. */
  public DataType rowVersionType() {
    return DataTypes.StringType;
  }

  /**
   * A value that changes whenever the row of {@code alias} changes, computed by the database
   * itself: read by a row-level operation's scan and computed again in its publish, where a
   * different value means another write changed the row in between. By default a SHA-256 of the
   * row's values, each as text with its length in front (so no two rows share a text) and NULL
   * marked apart from any text.
   */
  public String rowVersion(String alias, StructType schema) {
    StringBuilder sb = new StringBuilder("RAWTOHEX(HASH('SHA-256', CONCAT(''");
    for (StructField f : schema.fields()) {
      String column = alias + "." + quote(f.name());
      String text =
          f.dataType().equals(DataTypes.BinaryType)
              ? "RAWTOHEX(" + column + ")"
              : "CAST(" + column + " AS VARCHAR)";
      sb.append(", COALESCE('V' || CHAR_LENGTH(")
          .append(text)
          .append(") || ':' || ")
          .append(text)
          .append(", 'N')");
    }
    return sb.append(")))").toString();
  }

  /**
   * What a row-level operation's scan reads from: the table with {@link #rowVersionColumn} added.
   * Only that scan reads through it; other reads read the table itself.
   */
  public String rowVersionSource(String qualifiedTarget, StructType schema) {
    return "(SELECT t.*, "
        + rowVersion("t", schema)
        + " AS "
        + quote(ROW_VERSION_COLUMN)
        + " FROM "
        + qualifiedTarget
        + " t) "
        + quote("tessera_rows");
  }

  /**
   * Deletes the target rows (alias {@code t}) that match a row of {@code select} (alias {@code s})
   * by {@code on}, driven by the (few) selected rows and the target's key index.
   */
  public String deleteMatching(String qualifiedTarget, String select, String on) {
    return "MERGE INTO "
        + qualifiedTarget
        + " t USING ("
        + select
        + ") s ON ("
        + on
        + ") WHEN MATCHED THEN DELETE";
  }

  /**
   * Updates the target rows (alias {@code t}) that match a row of {@code select} (alias {@code s})
   * by {@code on}, setting each of {@code columns} to the selected row's value.
   */
  public String updateMatching(
      String qualifiedTarget, String select, String on, List<String> columns) {
    return "MERGE INTO "
        + qualifiedTarget
        + " t USING ("
        + select
        + ") s ON ("
        + on
        + ") WHEN MATCHED THEN UPDATE SET "
        + columns.stream()
            .map(c -> quote(c) + " = s." + quote(c))
            .collect(Collectors.joining(", "));
  }

  /** Whether {@code e} is a unique key (or other integrity constraint) refusing a row. */
  public boolean isConstraintViolation(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      if (x.getSQLState() != null && x.getSQLState().startsWith("23")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Deletes the rows of {@code qualifiedTarget} (alias {@code t}) that match a row of {@code
   * select} (alias {@code d}) by {@code on}. Only dialects that list keys need it.
   */
  public String deleteJoining(String qualifiedTarget, String select, String on) {
    return "DELETE FROM "
        + qualifiedTarget
        + " t WHERE EXISTS (SELECT 1 FROM ("
        + select
        + ") d WHERE "
        + on
        + ")";
  }

  /**
   * Inserts the rows of {@code select} (giving {@code columns} in order) into {@code
   * qualifiedTarget}, updating instead the rows whose {@code keys} match. The default is H2's
   * {@code MERGE INTO ... KEY}, which matches by the key columns' values whether or not a unique
   * key exists.
   */
  public String upsert(
      String qualifiedTarget, List<String> columns, List<String> keys, String select) {
    return "MERGE INTO "
        + qualifiedTarget
        + " ("
        + columns.stream().map(this::quote).collect(java.util.stream.Collectors.joining(", "))
        + ") KEY ("
        + keys.stream().map(this::quote).collect(java.util.stream.Collectors.joining(", "))
        + ") "
        + select;
  }

  /**
   * Whether {@link #upsert} needs the keys to be exactly a unique key (primary key or unique index)
   * of the table, as {@code ON CONFLICT} and {@code ON DUPLICATE KEY} do.
   */
  public boolean upsertNeedsUniqueKey() {
    return false;
  }

  /**
   * Why {@link #upsert} could match an existing row by a key other than {@code keys} (MariaDB's ON
   * DUPLICATE KEY matches on any unique key), or null.
   */
  public String otherUniqueKeysProblem(List<String> keys, List<List<String>> uniqueKeys) {
    return null;
  }

  /**
   * Whether {@link #upsert} fails by itself when a key appears twice among the new rows (then
   * {@link #isRepeatedUpsertKey} tells that failure).
   */
  public boolean upsertRefusesRepeatedKeys() {
    return false;
  }

  public boolean isRepeatedUpsertKey(SQLException e) {
    return false;
  }

  /**
   * Whether the update count of {@link #upsert} is the number of rows it read (so no COUNT of the
   * staged rows is needed). H2's MERGE counts each row it merges.
   */
  public boolean upsertCountsSourceRows(List<String> columns, List<String> keys) {
    return true;
  }

  /**
   * A string column of any database type (uuid, inet, citext, ...) as the database's plain text
   * type, so that {@link #sparkComparableString} applies to it.
   */
  public String asText(String sqlExpr) {
    return sqlExpr;
  }

  /**
   * Whether {@link #upsert} matches string keys by the database's collation rather than exactly, so
   * that keys Spark holds different (case, trailing spaces) must be checked for before.
   */
  public boolean upsertMatchesStringsByCollation() {
    return true;
  }

  /** {@code a} equals {@code b}, where NULL equals NULL. */
  public String nullSafeEquals(String a, String b) {
    return a + " IS NOT DISTINCT FROM " + b;
  }

  /** Binds column {@code column} of Spark type {@code type} to INSERT parameters. */
  public ValueBinder.Setter setter(String column, DataType type) {
    if (type.equals(DataTypes.TimestampType)) {
      return ValueBinder.nullAware(
          type,
          (ps, i, row, ord) ->
              ps.setObject(
                  i,
                  instantParameter(
                      column,
                      org.apache.spark.sql.catalyst.util.DateTimeUtils.microsToInstant(
                          row.getLong(ord)))));
    }
    return ValueBinder.setter(type);
  }

  /**
   * The JDBC value of an instant (Spark TIMESTAMP) for column {@code column}: by default in UTC
   * with an explicit offset, so the executor JVM's time zone never matters.
   */
  public Object instantParameter(String column, java.time.Instant instant) {
    return java.time.OffsetDateTime.ofInstant(instant, java.time.ZoneOffset.UTC);
  }

  /**
   * Whether the database has a timestamp type without a zone distinct from the one Tessera uses for
   * instants (PostgreSQL and H2: {@code timestamp} vs {@code timestamptz}). Where not (MariaDB's
   * DATETIME holds both), TIMESTAMP_NTZ columns are recorded in the table comment.
   */
  public boolean hasTimestampWithoutZoneType() {
    return true;
  }

  /** The server's two-phase commit, or null when Tessera does not support it there (H2). */
  public PreparedTransactions preparedTransactions() {
    return null;
  }

  /** Opens the loader a task streams its rows through. */
  public BulkLoader newLoader(
      Connection connection, String qualifiedTable, StructType schema, Long attempt, int batchSize)
      throws SQLException {
    return new BatchInsertLoader(this, connection, qualifiedTable, schema, attempt, batchSize);
  }

  /**
   * A staging table name unique to one write: {@link #STAGING_PREFIX}, its creation time, the write
   * id and a checksum of the rest. The checksum is Tessera's marker: cleanup drops only tables
   * whose name carries a valid one, never a user's table that merely looks similar.
   */
  public static String stagingTableName(long createdEpochSeconds, String writeId) {
    String base = STAGING_PREFIX + createdEpochSeconds + "_" + writeId.toLowerCase(Locale.ROOT);
    return base + "_" + checksum(base);
  }

  /** Whether {@code name} was made by {@link #stagingTableName} (its checksum matches). */
  public static boolean isStagingTableName(String name) {
    int sep = name.lastIndexOf('_');
    return name.startsWith(STAGING_PREFIX)
        && sep > STAGING_PREFIX.length()
        && name.substring(sep + 1).equals(checksum(name.substring(0, sep)));
  }

  /**
   * The ledger key of a streaming query writing into a table: its one row holds the query's last
   * committed epoch. The table is part of it (as a checksum, the key must stay short) because a
   * checkpoint can be pointed at another table.
   */
  public static String streamLedgerKey(String queryId, String qualifiedTarget) {
    return "stream:" + queryId + ":" + checksum(qualifiedTarget);
  }

  private static String checksum(String base) {
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(base.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return String.format("%08x", crc.getValue());
  }

  @Override
  public String toString() {
    return name();
  }
}
