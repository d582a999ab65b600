package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class H2StreamingIT extends JdbcStreamingContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.H2;
  }
}
