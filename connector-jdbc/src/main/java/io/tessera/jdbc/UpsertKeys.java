package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraErrors;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.write.WriteMode;
import java.util.List;
import org.apache.spark.sql.types.StructType;

/**
 * Decides, on the driver before any task, the keys of an upsert into a {@link JdbcTable}, from
 * {@code upsertKeys} or the table's primary key, and refuses keys the database's upsert statement
 * could not match by.
 */
final class UpsertKeys {
  private final JdbcTable table;

  UpsertKeys(JdbcTable table) {
    this.table = table;
  }

  /**
   * Decides an upsert's keys before any task: {@code upsertKeys}, else the table's primary key.
   * Where the database's statement matches through a unique key (PostgreSQL's ON CONFLICT,
   * MariaDB's ON DUPLICATE KEY), the keys must be exactly one, and MariaDB must have no other.
   */
  WriteMode decide(ParsedOptions options, StructType schema, WriteMode chosen, boolean updateMode) {
    String why = updateMode ? "the streaming update output mode" : "writeMode=upsert";
    if (!(chosen instanceof WriteMode.Append)) {
      throw TesseraErrors.conflictingWriteModes(
          chosen.describe() + " (Spark's overwrite, truncate or complete output mode)",
          "upsert (" + why + "); an upsert keeps the rows whose keys it does not hold");
    }
    if (table.staged()) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-jdbc",
          "upsert into the new table of CREATE / REPLACE TABLE AS SELECT " + table.name(),
          "a new table has no rows to update; remove option 'writeMode'");
    }
    KeyInfo keyInfo = readKeys();
    List<String> keys;
    if (options.isSet(JdbcWriteOptions.UPSERT_KEYS)) {
      keys = new java.util.ArrayList<>();
      for (String k : options.get(JdbcWriteOptions.UPSERT_KEYS).split(",")) {
        if (!k.isBlank()) {
          keys.add(column(schema, k.trim(), "upsertKeys"));
        }
      }
    } else if (!keyInfo.primaryKey().isEmpty()) {
      keys = keyInfo.primaryKey().stream().map(k -> column(schema, k, "upsertKeys")).toList();
    } else {
      throw new TesseraException(
          TesseraError.MISSING_OPTION,
          "Upserting into "
              + table.name()
              + " ("
              + why
              + ") needs key columns: the table has no primary key, so set option 'upsertKeys',"
              + " e.g. 'upsertKeys'='"
              + schema.fieldNames()[0]
              + "'");
    }
    if (keys.isEmpty()) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "Option 'upsertKeys' names no column; give the key columns separated by commas");
    }
    String orderBy = null;
    if (options.isSet(JdbcWriteOptions.UPSERT_ORDER_BY)) {
      orderBy =
          column(schema, options.get(JdbcWriteOptions.UPSERT_ORDER_BY).trim(), "upsertOrderBy");
      if (keys.contains(orderBy)) {
        throw new TesseraException(
            TesseraError.INVALID_OPTION_VALUE,
            "Option 'upsertOrderBy' names key column '"
                + orderBy
                + "'; rows with one key share its value, so it cannot choose between them: name"
                + " another column");
      }
    }
    if (table.dialect().upsertNeedsUniqueKey()
        && keyInfo.uniqueKeys().stream().noneMatch(u -> sameColumns(u, keys))) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-jdbc",
          "upsert on " + String.join(", ", keys) + " into " + table.name(),
          table.dialect().name()
              + " matches existing rows through a primary key or unique index, and "
              + table.name()
              + " has none on exactly these columns (its unique keys: "
              + (keyInfo.uniqueKeys().isEmpty()
                  ? "none"
                  : keyInfo.uniqueKeys().stream()
                      .map(u -> "(" + String.join(", ", u) + ")")
                      .collect(java.util.stream.Collectors.joining(", ")))
              + "); create one (CREATE UNIQUE INDEX ... ON the table ("
              + String.join(", ", keys)
              + ")) or choose other 'upsertKeys'");
    }
    String other = table.dialect().otherUniqueKeysProblem(keys, keyInfo.uniqueKeys());
    if (other != null) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-jdbc",
          "upsert on " + String.join(", ", keys) + " into " + table.name(),
          other + "; drop that unique key or upsert on it");
    }
    return new WriteMode.Upsert(keys, orderBy);
  }

  private static boolean sameColumns(List<String> a, List<String> b) {
    java.util.Set<String> x = new java.util.HashSet<>();
    a.forEach(c -> x.add(c.toLowerCase(java.util.Locale.ROOT)));
    java.util.Set<String> y = new java.util.HashSet<>();
    b.forEach(c -> y.add(c.toLowerCase(java.util.Locale.ROOT)));
    return x.equals(y);
  }

  /** {@code name} as the write's schema spells it (Spark resolves names case-insensitively). */
  private String column(StructType schema, String name, String option) {
    for (String f : schema.fieldNames()) {
      if (f.equalsIgnoreCase(name)) {
        return f;
      }
    }
    throw new TesseraException(
        TesseraError.INVALID_OPTION_VALUE,
        "Option '"
            + option
            + "' names column '"
            + name
            + "', which "
            + table.name()
            + " does not have; its columns are "
            + String.join(", ", schema.fieldNames()));
  }

  /** The table's primary key and unique keys (plain column lists, no partial indexes). */
  record KeyInfo(List<String> primaryKey, List<List<String>> uniqueKeys) {}

  KeyInfo readKeys() {
    String schemaName = table.schemaName();
    String tableName = table.tableName();
    boolean catalogs = table.dialect().schemasAreCatalogs();
    try (java.sql.Connection c = table.connector().open()) {
      java.sql.DatabaseMetaData md = c.getMetaData();
      java.util.TreeMap<Short, String> pk = new java.util.TreeMap<>();
      try (java.sql.ResultSet rs =
          catalogs
              ? md.getPrimaryKeys(schemaName, null, tableName)
              : md.getPrimaryKeys(null, schemaName, tableName)) {
        while (rs.next()) {
          pk.put(rs.getShort("KEY_SEQ"), rs.getString("COLUMN_NAME"));
        }
      }
      java.util.Map<String, List<String>> unique = new java.util.LinkedHashMap<>();
      java.util.Set<String> partial = new java.util.HashSet<>();
      try (java.sql.ResultSet rs =
          catalogs
              ? md.getIndexInfo(schemaName, null, tableName, true, true)
              : md.getIndexInfo(null, schemaName, tableName, true, true)) {
        while (rs.next()) {
          String index = rs.getString("INDEX_NAME");
          String column = rs.getString("COLUMN_NAME");
          if (index == null || rs.getBoolean("NON_UNIQUE")) {
            continue;
          }
          if (column == null || rs.getString("FILTER_CONDITION") != null) {
            partial.add(index);
          }
          unique.computeIfAbsent(index, i -> new java.util.ArrayList<>()).add(column);
        }
      }
      partial.forEach(unique::remove);
      List<List<String>> keys = new java.util.ArrayList<>();
      if (!pk.isEmpty()) {
        keys.add(List.copyOf(pk.values()));
      }
      for (List<String> u : unique.values()) {
        if (keys.stream().noneMatch(k -> sameColumns(k, u))) {
          keys.add(List.copyOf(u));
        }
      }
      return new KeyInfo(List.copyOf(pk.values()), keys);
    } catch (java.sql.SQLException e) {
      throw table
          .connector()
          .sqlFailed("Reading the keys of " + table.name() + " for an upsert failed", "", e);
    }
  }
}
