package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;

class H2ContractIT extends JdbcContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.H2;
  }

  /**
   * The in-memory test database has no socket to cut, so it is served over TCP by this JVM (the
   * same named in-memory database) and reached through the proxy.
   */
  @Test
  void unconfirmedCommitIsResolvedFromTheLedgerHere() throws Exception {
    if (db.url().startsWith("jdbc:h2:tcp:")) {
      unconfirmedCommitIsResolvedFromTheLedger(); // already served over TCP (a cluster master)
      return;
    }
    Server server = Server.createTcpServer("-tcpPort", "0").start();
    try {
      String database = db.userUrl().substring("jdbc:h2:".length());
      unconfirmedCommitIsResolvedFromTheLedger(
          "127.0.0.1",
          server.getPort(),
          port -> "jdbc:h2:tcp://127.0.0.1:" + port + "/" + database);
    } finally {
      server.stop();
    }
  }

  @Test
  void twoPhaseCommitIsRefusedOnH2BeforeAnythingIsWritten() throws Exception {
    String t = createEvents("no2pc", 10, "");
    assertThatThrownBy(() -> events(10, 20).writeTo(t).option("commit", "two-phase").append())
        .hasMessageContaining("[UNSUPPORTED_WRITE_MODE]")
        .hasMessageContaining("two-phase commit needs PostgreSQL or MariaDB/MySQL");
    assertThat(rows(t)).isEqualTo(expected(0, 10));
  }
}
