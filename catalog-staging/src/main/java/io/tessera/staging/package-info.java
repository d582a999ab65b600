/**
 * Generic {@code StagingTableCatalog} machinery for atomic {@code CREATE TABLE ... AS SELECT},
 * {@code REPLACE TABLE ... AS SELECT} and {@code CREATE OR REPLACE}: a catalog implements {@link
 * io.tessera.staging.StagingCatalog} and one small SPI, {@link io.tessera.staging.StagingSpi}
 * (create a hidden table, publish it, drop it); the staged tables here, named after what they
 * guarantee, do the rest. Nothing in this package knows any connector.
 */
package io.tessera.staging;
