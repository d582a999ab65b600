package io.tessera.file;

import java.util.List;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/** A task attempt's files, all closed and complete in the staging folder. */
record FileCommitMessage(int partitionId, long taskId, List<StagedFile> files)
    implements WriterCommitMessage {}
