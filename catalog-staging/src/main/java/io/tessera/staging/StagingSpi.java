package io.tessera.staging;

import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableInfo;

/**
 * What a connector implements so that its catalog stages CTAS / RTAS: build the new table where no
 * reader resolves it ({@link #createHidden}), let Spark write into it ({@link #writable}), then
 * publish it under the real name ({@link #swapIn}) or drop it ({@link #dropHidden}).
 *
 * <p>The old table is never touched before publication, so dropping a hidden table always leaves
 * the old one exactly as it was.
 *
 * @param <H> the connector's handle of one hidden table
 */
public interface StagingSpi<H> {

  /** The system's name for messages, e.g. {@code "tessera-jdbc (PostgreSQL)"}. */
  String systemName();

  /**
   * Whether {@link #swapIn} replaces an existing table in one atomic step. When false, the
   * catalog's staged tables use the best-effort steps ({@link #moveAside}, {@link #swapIn} with
   * {@link Publication#CREATE}, {@link #dropAside}), undoing the first if the second fails.
   */
  boolean atomicSwap();

  /**
   * Creates an empty table for {@code info} that no reader of {@code ident} sees (a hidden name, or
   * nothing at all until publication). Validates the definition; nothing named {@code ident}
   * changes.
   */
  H createHidden(Identifier ident, TableInfo info, Publication publication)
      throws NoSuchNamespaceException;

  /** The table Spark writes the query's rows into. */
  Table writable(H hidden);

  /**
   * Publishes {@code hidden} as {@code ident}. With {@link Publication#CREATE} it fails (with a
   * clear error, changing nothing) if a table named {@code ident} exists; otherwise, when {@link
   * #atomicSwap()}, an existing table is replaced in the same atomic step. Either the new table is
   * visible under {@code ident} afterwards, or an exception says why not.
   */
  void swapIn(H hidden, Identifier ident, Publication publication);

  /**
   * Drops the hidden table if it still exists. Never touches {@code ident}; safe after a {@link
   * #swapIn} whose outcome is unknown (a published table no longer has the hidden identity).
   */
  void dropHidden(H hidden);

  /**
   * Best effort only: renames the existing table {@code ident} to a hidden name and returns that
   * name, or returns null if there is no such table.
   */
  default String moveAside(Identifier ident) {
    throw new UnsupportedOperationException(systemName() + " publishes atomically");
  }

  /** Best effort only: renames the table moved aside back to {@code ident}. */
  default void moveBack(String aside, Identifier ident) {
    throw new UnsupportedOperationException(systemName() + " publishes atomically");
  }

  /** Best effort only: drops the table {@code ident} moved aside, once the new one is published. */
  default void dropAside(String aside, Identifier ident) {
    throw new UnsupportedOperationException(systemName() + " publishes atomically");
  }
}
