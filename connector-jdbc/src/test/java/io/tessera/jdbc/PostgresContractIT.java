package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class PostgresContractIT extends JdbcContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }
}
