package io.tessera.benchmarks;

/** One way of writing the workload; {@link #run()} writes it once into a freshly emptied target. */
interface Contender {
  String name();

  /** Empties the target; not timed. */
  void reset() throws Exception;

  /** Writes the workload once; timed. */
  void run() throws Exception;

  /** Rows now in the target, to verify the run. */
  long count() throws Exception;
}
