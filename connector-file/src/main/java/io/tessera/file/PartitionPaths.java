package io.tessera.file;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.catalog.ExternalCatalogUtils;

/**
 * Hive-style partition folders ({@code day=2026-11-01/}), escaped exactly as Spark escapes them
 * ({@code /}, {@code =}, {@code %}, {@code :} and other special characters become {@code %XX}; null
 * becomes {@code __HIVE_DEFAULT_PARTITION__}), so plain {@code spark.read} discovers the same
 * values and no value can name a folder outside the table.
 */
final class PartitionPaths {
  private PartitionPaths() {}

  /** {@code col1=v1/col2=v2/} for the given (unescaped) values; "" when unpartitioned. */
  static String of(List<String> columns, Map<String, String> values) {
    StringBuilder sb = new StringBuilder();
    for (String c : columns) {
      String v = values.get(c);
      sb.append(
              ExternalCatalogUtils.getPartitionPathString(
                  c, v == null ? ExternalCatalogUtils.DEFAULT_PARTITION_NAME() : v))
          .append('/');
    }
    return sb.toString();
  }
}
