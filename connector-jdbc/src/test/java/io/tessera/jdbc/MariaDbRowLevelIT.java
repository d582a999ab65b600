package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class MariaDbRowLevelIT extends JdbcRowLevelContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }
}
