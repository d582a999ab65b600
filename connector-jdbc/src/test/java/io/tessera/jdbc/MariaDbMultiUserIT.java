package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class MariaDbMultiUserIT extends MultiUserContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }
}
