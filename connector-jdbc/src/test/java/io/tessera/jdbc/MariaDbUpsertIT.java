package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class MariaDbUpsertIT extends JdbcUpsertContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }
}
