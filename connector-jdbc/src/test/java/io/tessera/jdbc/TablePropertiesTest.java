package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TablePropertiesTest {
  @Test
  void partitionKeysSurviveCommasQuotesAndSpaces() {
    List<String> keys = List.of("day", "we,ird \"key'");
    String comment = TableProperties.toComment(keys);
    assertThat(comment).doesNotContain("'").doesNotContain("\"");
    assertThat(TableProperties.partitionKeys(comment)).isEqualTo(keys);
  }

  @Test
  void otherCommentsHaveNoKeys() {
    assertThat(TableProperties.partitionKeys(null)).isEmpty();
    assertThat(TableProperties.partitionKeys("orders of the day")).isEmpty();
  }

  @Test
  void stagingTableAgeIsReadFromItsName() {
    assertThat(CleanupStagingProcedure.createdEpochSeconds("tessera_stg_1700000000_abc"))
        .isEqualTo(1_700_000_000L);
    assertThat(CleanupStagingProcedure.createdEpochSeconds("tessera_stg_notes")).isNull();
    assertThat(CleanupStagingProcedure.createdEpochSeconds("orders")).isNull();
  }
}
