package io.tessera.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs contenders alternately, N rounds, verifying the row count after every run, and reports best
 * / min / median / max seconds, rows per second and the ratio of each best time to the baseline's
 * best (the first contender).
 */
final class BenchmarkRunner {
  private BenchmarkRunner() {}

  /** One contender's timings. */
  record Line(
      String name, double best, double median, double max, double rowsPerSecond, double ratio) {}

  /** One workload's results. */
  record Result(String title, List<Line> lines, String notes) {
    Result(String title, List<Line> lines) {
      this(title, lines, "");
    }

    /** This result with {@code more} (markdown) printed under its table. */
    Result withNotes(String more) {
      return new Result(title, lines, notes + more);
    }

    String markdown() {
      StringBuilder table = new StringBuilder();
      table.append("### ").append(title).append("\n\n");
      table.append(
          "| contender | best s | min / median / max s | rows/s (best) | best vs baseline |\n"
              + "|---|---:|---:|---:|---:|\n");
      for (Line l : lines) {
        table.append(
            String.format(
                "| %s | %.2f | %.2f / %.2f / %.2f | %,.0f | %.2fx |%n",
                l.name(), l.best(), l.best(), l.median(), l.max(), l.rowsPerSecond(), l.ratio()));
      }
      if (!notes.isEmpty()) {
        table.append("\n").append(notes).append("\n");
      }
      return table.toString();
    }
  }

  static Result run(String title, long rows, int rounds, List<Contender> contenders)
      throws Exception {
    System.out.println("== " + title);
    Map<String, List<Double>> seconds = new LinkedHashMap<>();
    contenders.forEach(c -> seconds.put(c.name(), new ArrayList<>()));
    for (int round = 1; round <= rounds; round++) {
      for (Contender c : contenders) {
        c.reset();
        long start = System.nanoTime();
        c.run();
        double s = (System.nanoTime() - start) / 1e9;
        long written = c.count();
        if (written != rows) {
          throw new IllegalStateException(
              c.name()
                  + " wrote "
                  + written
                  + " rows, expected "
                  + rows
                  + " (round "
                  + round
                  + ")");
        }
        seconds.get(c.name()).add(s);
        System.out.printf("  round %d  %-60s %8.2f s%n", round, c.name(), s);
      }
    }
    List<Line> lines = new ArrayList<>();
    double baseline = -1;
    for (Map.Entry<String, List<Double>> e : seconds.entrySet()) {
      List<Double> sorted = new ArrayList<>(e.getValue());
      sorted.sort(Double::compare);
      double best = sorted.get(0);
      if (baseline < 0) {
        baseline = best;
      }
      lines.add(
          new Line(
              e.getKey(),
              best,
              sorted.get(sorted.size() / 2),
              sorted.get(sorted.size() - 1),
              rows / best,
              baseline / best));
    }
    return new Result(title, lines);
  }
}
