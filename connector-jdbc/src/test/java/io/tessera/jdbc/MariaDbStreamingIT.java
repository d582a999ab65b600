package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class MariaDbStreamingIT extends JdbcStreamingContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }
}
