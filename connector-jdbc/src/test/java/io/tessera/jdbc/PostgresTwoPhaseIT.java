package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class PostgresTwoPhaseIT extends JdbcTwoPhaseContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }
}
