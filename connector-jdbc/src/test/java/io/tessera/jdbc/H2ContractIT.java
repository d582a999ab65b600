package io.tessera.jdbc;

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
}
