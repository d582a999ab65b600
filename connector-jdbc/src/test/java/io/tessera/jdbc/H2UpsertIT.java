package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class H2UpsertIT extends JdbcUpsertContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.H2;
  }
}
