/**
 * Atomic Parquet/ORC/JSON/CSV tables made of Hive-style partition folders and a commit log.
 * (Planned: see the connector-file issue.)
 */
package io.tessera.file;
