package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import org.junit.jupiter.api.Test;

class PostgresTwoPhaseIT extends JdbcTwoPhaseContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }

  /** More partitions than the server can hold prepared transactions: refused before loading. */
  @Test
  void aWriteWithMorePartitionsThanPreparedTransactionSlotsIsRefused() throws Exception {
    String t = createEvents("slots", 10, "");
    int max =
        ((Number)
                db.query("SELECT current_setting('max_prepared_transactions')::int").get(0).get(0))
            .intValue();
    assertThatThrownBy(() -> twoPhase(events(10, 20 + max).repartition(max + 1), t))
        .hasMessageContaining("[UNSUPPORTED_WRITE_MODE]")
        .hasMessageContaining("the write has " + (max + 1) + " partitions")
        .hasMessageContaining("max_prepared_transactions");
    assertThat(rows(t)).isEqualTo(expected(0, 10));
  }
}
