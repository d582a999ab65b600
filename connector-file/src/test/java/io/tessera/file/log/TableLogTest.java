package io.tessera.file.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableLogTest {
  @TempDir Path dir;

  private static final TableMetadata META =
      TableMetadata.of(
          new StructType().add("id", DataTypes.LongType).add("day", DataTypes.StringType),
          List.of("day"),
          "parquet",
          Map.of());

  private static AddFile file(String name) {
    return new AddFile("day=x/" + name, Map.of("day", "x"), 10, 1);
  }

  @Test
  void versionsAreClaimedOnceAndStateReplaysThroughCheckpoints() throws Exception {
    TableLog log = new TableLog(new org.apache.hadoop.fs.Path(dir.toUri()), new Configuration());
    assertThat(log.exists()).isFalse();
    assertThat(log.commit(new LogEntry(0, 0, "create", META, List.of(), List.of(), null), null, 10))
        .isTrue();
    // Another writer's entry for the same version loses...
    assertThat(log.commit(new LogEntry(0, 1, "create", META, List.of(), List.of(), null), null, 10))
        .isFalse();
    // ...while a retried create of the very same entry (same bytes) is recognised as ours.
    assertThat(log.commit(new LogEntry(0, 0, "create", META, List.of(), List.of(), null), null, 10))
        .isTrue();

    Snapshot s = log.snapshot();
    for (int v = 1; v <= 25; v++) {
      LogEntry e =
          new LogEntry(
              v,
              v,
              "append",
              null,
              List.of(file("f" + v)),
              v % 5 == 0 ? List.of("day=x/f" + (v - 1)) : List.of(),
              new LogEntry.StreamingEpoch("q", v));
      s = s.apply(e);
      assertThat(log.commit(e, s, 10)).isTrue();
    }
    // A racing writer that also read version 25 loses version 26... and the loser can tell.
    LogEntry racer = new LogEntry(25, 0, "append", null, List.of(file("late")), List.of(), null);
    assertThat(log.commit(racer, s, 10)).isFalse();

    Snapshot loaded =
        new TableLog(new org.apache.hadoop.fs.Path(dir.toUri()), new Configuration()).snapshot();
    assertThat(loaded.version()).isEqualTo(25);
    assertThat(loaded.files()).hasSize(20); // 25 added, 5 removed
    assertThat(loaded.contains("day=x/f4")).isFalse();
    assertThat(loaded.contains("day=x/f25")).isTrue();
    assertThat(loaded.committed("q", 25)).isTrue();
    assertThat(loaded.committed("q", 26)).isFalse();
    assertThat(loaded.metadata()).isEqualTo(META);
    assertThat(Files.readString(dir.resolve("_tessera/log/_last_checkpoint")).trim())
        .isEqualTo("20");
    assertThat(dir.resolve("_tessera/log/00000000000000000010.checkpoint.json")).exists();
    assertThat(log.entries(24, 25)).extracting(LogEntry::version).containsExactly(24L, 25L);
  }
}
