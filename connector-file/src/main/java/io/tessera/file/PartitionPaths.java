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
      String segment =
          ExternalCatalogUtils.getPartitionPathString(
              c, v == null ? ExternalCatalogUtils.DEFAULT_PARTITION_NAME() : v);
      if (segment.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
        throw new io.tessera.common.errors.TesseraException(
            io.tessera.common.errors.TesseraError.SCHEMA_MISMATCH,
            "Partition column '"
                + c
                + "' has a value too long for a folder name ("
                + segment.length()
                + " characters escaped, at most "
                + MAX_SEGMENT_BYTES
                + " bytes): '"
                + (v.length() > 60 ? v.substring(0, 60) + "..." : v)
                + "'. Partition by a shorter column (e.g. a hash or prefix of it); nothing was"
                + " committed");
      }
      sb.append(segment).append('/');
    }
    return sb.toString();
  }

  /**
   * The partition values of a table-relative file path ({@code day=2026-11-01/part-0.parquet}),
   * unescaped as Spark unescapes them; the default partition is null.
   */
  static Map<String, String> parse(List<String> columns, String path) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    String[] segments = path.split("/");
    for (int i = 0; i < columns.size() && i < segments.length - 1; i++) {
      String segment = segments[i];
      int eq = segment.indexOf('=');
      String value = ExternalCatalogUtils.unescapePathName(segment.substring(eq + 1));
      out.put(
          columns.get(i),
          value.equals(ExternalCatalogUtils.DEFAULT_PARTITION_NAME()) ? null : value);
    }
    return out;
  }

  /** A folder name's limit on common file systems (ext4, XFS, HDFS's default). */
  static final int MAX_SEGMENT_BYTES = 255;
}
