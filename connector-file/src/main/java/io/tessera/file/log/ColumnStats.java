package io.tessera.file.log;

/**
 * What one data file holds in one column, recorded when the file is written: the smallest and
 * largest non-null value as text (null when unknown, e.g. a long string's maximum) and how many
 * values are null. Read by {@code FileStats} to skip files no row of which can match a condition.
 */
public record ColumnStats(String min, String max, long nulls) implements java.io.Serializable {}
