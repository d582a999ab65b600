package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class MariaDbProviderIT extends JdbcProviderContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }
}
