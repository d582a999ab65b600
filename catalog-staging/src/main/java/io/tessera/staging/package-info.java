/**
 * Generic {@code StagingTableCatalog} machinery: staged tables whose data and metadata are
 * published together in {@code commitStagedChanges()}, for atomic CTAS / RTAS. (Planned: see the
 * catalog-staging issue.)
 */
package io.tessera.staging;
