package io.tessera.jdbc;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The Tessera table properties a JDBC table keeps in its table comment. Today one: the partition
 * keys given by {@code PARTITIONED BY} at creation, which {@code overwritePartitions()} uses. Each
 * key is URL-encoded, so column names with commas, quotes or spaces survive.
 */
final class TableProperties {
  static final String PARTITION_KEYS = "tessera.partitionKeys";
  private static final String PREFIX = PARTITION_KEYS + "=";

  private TableProperties() {}

  static String toComment(List<String> partitionKeys) {
    return PREFIX
        + partitionKeys.stream()
            .map(k -> URLEncoder.encode(k, StandardCharsets.UTF_8))
            .collect(Collectors.joining(","));
  }

  /** The partition keys recorded in {@code comment}; empty for other comments. */
  static List<String> partitionKeys(String comment) {
    if (comment == null || !comment.startsWith(PREFIX) || comment.length() == PREFIX.length()) {
      return List.of();
    }
    return Arrays.stream(comment.substring(PREFIX.length()).split(","))
        .map(k -> URLDecoder.decode(k, StandardCharsets.UTF_8))
        .toList();
  }
}
