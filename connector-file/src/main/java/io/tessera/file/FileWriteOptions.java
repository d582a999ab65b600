package io.tessera.file;

import io.tessera.common.options.OptionSet;
import io.tessera.common.options.OptionSpec;

/** Every option of tessera-file, declared once. */
public final class FileWriteOptions {
  private FileWriteOptions() {}

  public static final OptionSpec<String> PATH =
      OptionSpec.string(
          "path", null, "table folder (provider only; a catalog table lives in its warehouse)");
  public static final OptionSpec<String> FORMAT =
      OptionSpec.string(
          "format", "parquet", "file format of a new table: parquet, orc, json or csv");
  public static final OptionSpec<String> PARTITION_BY =
      OptionSpec.string(
          "partitionBy",
          null,
          "comma-separated partition columns of a new table created by the provider");
  public static final OptionSpec<Long> MAX_RECORDS_PER_FILE =
      OptionSpec.longInRange(
          "maxRecordsPerFile",
          0,
          0,
          Long.MAX_VALUE,
          "start a new file after this many rows (0: no limit)");
  public static final OptionSpec<String> COMPRESSION =
      OptionSpec.string(
          "compression", null, "codec of the format writer (e.g. snappy, zstd, gzip)");

  /** How rows are spread over tasks before writing a partitioned table. */
  public enum Distribution {
    /** Shuffle rows so each partition is written by one task: few, large files. */
    CLUSTER,
    /** No shuffle; each task sorts its rows and writes a file per partition it sees. */
    NONE
  }

  public static final OptionSpec<Distribution> DISTRIBUTION =
      OptionSpec.choice(
          "distribution",
          Distribution.class,
          Distribution.CLUSTER,
          "cluster: shuffle by partition columns so each partition gets few files; none: no"
              + " shuffle (faster, up to one file per task and partition)");
  public static final OptionSpec<Integer> CHECKPOINT_INTERVAL =
      OptionSpec.intInRange(
          "checkpointInterval", 10, 1, 10_000, "write a log checkpoint every this many commits");

  public static final OptionSpec<Boolean> MERGE_SCHEMA =
      OptionSpec.bool(
          "mergeSchema",
          false,
          "add the data's columns that the table lacks (nullable, after the existing ones) in the"
              + " same commit; older files read them as null. Provider writes; for catalog writes"
              + " set it as a table property");

  public static final OptionSet OPTIONS =
      OptionSet.builder("tessera-file")
          .add(
              PATH,
              FORMAT,
              PARTITION_BY,
              DISTRIBUTION,
              MAX_RECORDS_PER_FILE,
              COMPRESSION,
              CHECKPOINT_INTERVAL,
              MERGE_SCHEMA)
          .ignore("checkpointLocation")
          .build();
}
