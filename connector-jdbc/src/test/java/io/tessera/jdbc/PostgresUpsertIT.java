package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class PostgresUpsertIT extends JdbcUpsertContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }
}
