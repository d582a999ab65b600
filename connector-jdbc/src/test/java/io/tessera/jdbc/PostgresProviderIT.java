package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class PostgresProviderIT extends JdbcProviderContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }
}
