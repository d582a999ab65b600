package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class PostgresRowLevelIT extends JdbcRowLevelContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }
}
