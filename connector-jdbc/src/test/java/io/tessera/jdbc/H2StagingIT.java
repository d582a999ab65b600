package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class H2StagingIT extends JdbcStagingContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.H2;
  }
}
