package io.tessera.staging;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A staged table on a system whose DDL cannot be made atomic (each statement commits by itself).
 * The new table is fully written under a hidden name first, so a failed query never touches the old
 * table. Publication is three steps: move the old table aside, rename the new one in, drop the old
 * one; if the rename fails the old table is moved back. Between the first two steps (a few
 * milliseconds) a reader can find no table; a crash there leaves the old table under its aside
 * name, which the error and the log report.
 */
public final class BestEffortStagedTable<H> extends HiddenStagedTable<H> {
  private static final Logger LOG = LoggerFactory.getLogger(BestEffortStagedTable.class);

  public BestEffortStagedTable(
      StagingSpi<H> spi, H hidden, Identifier ident, Publication publication, String name) {
    super(spi, hidden, ident, publication, name);
  }

  @Override
  public void commitStagedChanges() {
    String aside = publication.replaces() ? spi.moveAside(ident) : null;
    try {
      spi.swapIn(hidden, ident, Publication.CREATE);
    } catch (RuntimeException e) {
      if (aside != null) {
        try {
          spi.moveBack(aside, ident);
        } catch (RuntimeException undo) {
          e.addSuppressed(undo);
          keepHidden = true;
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              publication.sql()
                  + " of "
                  + name()
                  + " failed and the old table could not be moved back: it is kept as '"
                  + aside
                  + "' in the same namespace and the new table under its hidden staging name;"
                  + " rename the one you want back by hand. Cause: "
                  + e.getMessage(),
              e);
        }
      }
      throw e;
    }
    if (aside != null) {
      try {
        spi.dropAside(aside, ident);
      } catch (RuntimeException e) {
        LOG.warn(
            "tessera: {} of {} is published but the old table '{}' could not be dropped ({});"
                + " the catalog's cleanup procedure removes it",
            publication.sql(),
            name(),
            aside,
            e.toString());
      }
    }
  }
}
