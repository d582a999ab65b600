package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class MariaDbTwoPhaseIT extends JdbcTwoPhaseContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }
}
