package io.tessera.file.log;

import java.util.Map;

/**
 * A data file that is part of the table: its path relative to the table root, its partition values
 * (unescaped, null for a null value), size and row count.
 */
public record AddFile(String path, Map<String, String> partition, long size, long rows) {}
