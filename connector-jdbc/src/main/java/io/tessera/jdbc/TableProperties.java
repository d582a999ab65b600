package io.tessera.jdbc;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The Tessera table properties a JDBC table keeps in its table comment, as {@code key=value} pairs
 * separated by {@code ;}: the partition keys given by {@code PARTITIONED BY} at creation (used by
 * {@code overwritePartitions()}), and on databases with one type for both (MariaDB's DATETIME) the
 * columns created from Spark's {@code TIMESTAMP_NTZ}. Each name is URL-encoded, so column names
 * with commas, semicolons, quotes or spaces survive.
 */
final class TableProperties {
  static final String PARTITION_KEYS = "tessera.partitionKeys";
  static final String NTZ_COLUMNS = "tessera.ntzColumns";

  private TableProperties() {}

  static String toComment(List<String> partitionKeys) {
    return toComment(partitionKeys, List.of());
  }

  static String toComment(List<String> partitionKeys, List<String> ntzColumns) {
    List<String> parts = new java.util.ArrayList<>();
    if (!partitionKeys.isEmpty() || ntzColumns.isEmpty()) {
      parts.add(PARTITION_KEYS + "=" + encode(partitionKeys));
    }
    if (!ntzColumns.isEmpty()) {
      parts.add(NTZ_COLUMNS + "=" + encode(ntzColumns));
    }
    return String.join(";", parts);
  }

  private static String encode(List<String> names) {
    return names.stream()
        .map(k -> URLEncoder.encode(k, StandardCharsets.UTF_8))
        .collect(Collectors.joining(","));
  }

  /** The partition keys recorded in {@code comment}; empty for other comments. */
  static List<String> partitionKeys(String comment) {
    return list(comment, PARTITION_KEYS);
  }

  /** The columns recorded as created from TIMESTAMP_NTZ; empty for other comments. */
  static List<String> ntzColumns(String comment) {
    return list(comment, NTZ_COLUMNS);
  }

  private static List<String> list(String comment, String key) {
    if (comment == null || !comment.startsWith("tessera.")) {
      return List.of();
    }
    for (String part : comment.split(";")) {
      if (part.startsWith(key + "=") && part.length() > key.length() + 1) {
        return Arrays.stream(part.substring(key.length() + 1).split(","))
            .map(k -> URLDecoder.decode(k, StandardCharsets.UTF_8))
            .toList();
      }
    }
    return List.of();
  }
}
