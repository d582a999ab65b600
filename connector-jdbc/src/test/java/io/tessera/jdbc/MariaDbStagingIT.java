package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class MariaDbStagingIT extends JdbcStagingContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }
}
