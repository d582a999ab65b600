package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class MariaDbContractIT extends JdbcContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }
}
