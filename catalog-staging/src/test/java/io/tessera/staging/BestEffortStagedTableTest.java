package io.tessera.staging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The best-effort publication protocol, against an in-memory "database" of named tables (a map from
 * name to contents), so every failure point can be hit deterministically.
 */
class BestEffortStagedTableTest {
  static final Identifier T = Identifier.of(new String[] {"db"}, "t");

  /** Tables by name; a step named in {@code failing} throws instead of running. */
  static final class Names implements StagingSpi<String> {
    final Map<String, String> tables = new java.util.TreeMap<>();
    final Set<String> failing = new java.util.HashSet<>();
    final List<String> steps = new ArrayList<>();

    void step(String name) {
      steps.add(name);
      if (failing.contains(name)) {
        throw new IllegalStateException(name + " failed");
      }
    }

    @Override
    public String systemName() {
      return "in-memory";
    }

    @Override
    public boolean atomicSwap() {
      return false;
    }

    @Override
    public String createHidden(Identifier ident, TableInfo info, Publication publication) {
      tables.put("hidden", "new rows");
      return "hidden";
    }

    @Override
    public Table writable(String hidden) {
      return new Table() {
        @Override
        public String name() {
          return hidden;
        }

        @Override
        @SuppressWarnings("deprecation")
        public StructType schema() {
          return new StructType();
        }

        @Override
        public Set<TableCapability> capabilities() {
          return Set.of();
        }
      };
    }

    @Override
    public void swapIn(String hidden, Identifier ident, Publication publication) {
      step("swapIn");
      if (tables.containsKey(ident.name())) {
        throw new IllegalStateException("exists");
      }
      tables.put(ident.name(), tables.remove(hidden));
    }

    @Override
    public void dropHidden(String hidden) {
      steps.add("dropHidden");
      tables.remove(hidden);
    }

    @Override
    public String moveAside(Identifier ident) {
      step("moveAside");
      String v = tables.remove(ident.name());
      if (v == null) {
        return null;
      }
      tables.put("aside", v);
      return "aside";
    }

    @Override
    public void moveBack(String aside, Identifier ident) {
      step("moveBack");
      tables.put(ident.name(), tables.remove(aside));
    }

    @Override
    public void dropAside(String aside, Identifier ident) {
      step("dropAside");
      tables.remove(aside);
    }
  }

  static BestEffortStagedTable<String> staged(Names spi, Publication p) {
    return new BestEffortStagedTable<>(spi, spi.createHidden(T, null, p), T, p, "cat.db.t");
  }

  @Test
  void replacePublishesTheNewTableAndDropsTheOld() {
    Names spi = new Names();
    spi.tables.put("t", "old rows");
    staged(spi, Publication.REPLACE).commitStagedChanges();
    assertThat(spi.tables).isEqualTo(Map.of("t", "new rows"));
    assertThat(spi.steps).containsExactly("moveAside", "swapIn", "dropAside");
  }

  @Test
  void failedSwapMovesTheOldTableBackAndAbortDropsOnlyTheNewOne() {
    Names spi = new Names();
    spi.tables.put("t", "old rows");
    spi.failing.add("swapIn");
    BestEffortStagedTable<String> table = staged(spi, Publication.REPLACE);

    assertThatThrownBy(table::commitStagedChanges).hasMessage("swapIn failed");
    table.abortStagedChanges(); // what Spark does after a failed commit
    assertThat(spi.tables).isEqualTo(Map.of("t", "old rows"));
  }

  @Test
  void failedUndoKeepsBothTablesAndSaysWhere() {
    Names spi = new Names();
    spi.tables.put("t", "old rows");
    spi.failing.add("swapIn");
    spi.failing.add("moveBack");
    BestEffortStagedTable<String> table = staged(spi, Publication.REPLACE);

    assertThatThrownBy(table::commitStagedChanges)
        .hasMessageContaining("[COMMIT_FAILED]")
        .hasMessageContaining("it is kept as 'aside'");
    table.abortStagedChanges();
    assertThat(spi.tables).isEqualTo(Map.of("aside", "old rows", "hidden", "new rows"));
    assertThat(spi.steps).doesNotContain("dropHidden");
  }

  @Test
  void failedDropOfTheOldTableStillPublishes() {
    Names spi = new Names();
    spi.tables.put("t", "old rows");
    spi.failing.add("dropAside");
    staged(spi, Publication.CREATE_OR_REPLACE).commitStagedChanges();
    assertThat(spi.tables).isEqualTo(Map.of("t", "new rows", "aside", "old rows"));
  }

  @Test
  void createNeverMovesAnExistingTable() {
    Names spi = new Names();
    spi.tables.put("t", "someone else's rows");
    BestEffortStagedTable<String> table = staged(spi, Publication.CREATE);
    assertThatThrownBy(table::commitStagedChanges).hasMessage("exists");
    table.abortStagedChanges();
    assertThat(spi.tables).isEqualTo(Map.of("t", "someone else's rows"));
    assertThat(spi.steps).doesNotContain("moveAside");
  }
}
