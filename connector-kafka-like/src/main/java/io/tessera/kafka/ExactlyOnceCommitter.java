package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.redact.Redaction;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's part of delivery=exactly-once: it alone ends the transactions the task attempts left
 * open. For one write (a batch job, or one micro-batch):
 *
 * <ol>
 *   <li>{@link #recover} (before any task runs): completes what an earlier write under the same
 *       prefix recorded as COMMITTING in the {@link TransactionLedger} and did not finish, then
 *       aborts every transaction still open under the prefix (attempts of crashed writes; a task
 *       never commits its own, so these can only be aborted).
 *   <li>{@link #commit}: checks that every chosen transaction is still open (the brokers abort one
 *       that outlived {@code transaction.timeout.ms}), records them as COMMITTING, commits them,
 *       records DONE, and aborts the open transactions of every other attempt of the write (failed,
 *       killed or speculative ones, including attempts that never reported).
 *   <li>{@link #abort}: aborts every transaction of the write.
 * </ol>
 *
 * A driver that dies after recording COMMITTING leaves the decision in the ledger; the next write
 * or restart with the prefix carries it out, as long as it comes within {@code
 * transaction.timeout.ms}. Transactions are ended through {@link OpenTransactions}.
 */
final class ExactlyOnceCommitter {
  private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceCommitter.class);

  /** Committing and aborting open a producer per transaction: done a few at a time. */
  private static final ExecutorService ENDING =
      Executors.newFixedThreadPool(
          8,
          r -> {
            Thread t = new Thread(r, "tessera-kafka-transactions");
            t.setDaemon(true);
            return t;
          });

  private final String tableName;
  private final String prefix;
  private final Map<String, Object> producerConfig;
  private final TransactionLedger ledger;
  private final List<String> secrets;

  /** Writes whose decision is in the ledger: from then on only completing them is allowed. */
  private static final java.time.Duration CLOSE_TIMEOUT = java.time.Duration.ofSeconds(5);

  private final Set<String> decided = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Test hook: the driver "dies" after committing this many transactions (-1: off). */
  private static volatile int failAfterCommitsForTests = -1;

  static void failAfterCommitsForTests(int commits) {
    failAfterCommitsForTests = commits;
  }

  ExactlyOnceCommitter(
      String tableName,
      String prefix,
      String ledgerTopic,
      Map<String, Object> producerConfig,
      List<String> secrets) {
    this.tableName = tableName;
    this.prefix = prefix;
    this.producerConfig = producerConfig;
    this.secrets = secrets;
    this.ledger = new TransactionLedger(ledgerTopic, producerConfig, secrets);
  }

  /** A new write's token: its transactional ids start with {@code <prefix>.<token>.}. */
  static String newToken() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  String idBase(String token) {
    return prefix + "." + token;
  }

  long transactionTimeoutMs() {
    return Long.parseLong(
        String.valueOf(producerConfig.get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)).trim());
  }

  /**
   * Carries out what the last write under the prefix recorded and did not finish, aborts every
   * transaction left open under the prefix, and returns the ledger's last entry.
   */
  Optional<TransactionLedger.Entry> recover() {
    OpenTransactions.checkSupported();
    long start = System.nanoTime();
    Admin admin = ledger.admin();
    try {
      ledger.ensureTopic(admin);
      Optional<TransactionLedger.Entry> last = ledger.read(prefix);
      if (last.isPresent() && last.get().state() == TransactionLedger.Entry.State.COMMITTING) {
        TransactionLedger.Entry pending = last.get();
        LOG.warn(
            "tessera-kafka: a write under transactionalIdPrefix '{}' (write {}{}) recorded {}"
                + " transactions to commit and did not finish; committing them now",
            prefix,
            pending.writeToken(),
            pending.epoch() >= 0 ? ", epoch " + pending.epoch() : "",
            pending.transactions().size());
        List<String> lost = commitAll(pending.transactions());
        if (!lost.isEmpty()) {
          LOG.error(
              "tessera-kafka: {} transactions of write {} under '{}' were aborted by the brokers"
                  + " before they could be completed (the driver came back after"
                  + " transaction.timeout.ms); their records are lost: {}",
              lost.size(),
              pending.writeToken(),
              prefix,
              lost);
        }
        if (lost.size() == pending.transactions().size()) {
          // Nothing of that write became visible: record it as not committed, so that a replay
          // of its streaming epoch is written again instead of skipped.
          pending =
              new TransactionLedger.Entry(
                  TransactionLedger.Entry.State.DONE,
                  pending.writeToken(),
                  pending.queryId(),
                  pending.epoch() >= 0 ? pending.epoch() - 1 : -1,
                  List.of());
        } else {
          pending = pending.done();
        }
        ledger.write(prefix, pending);
        last = Optional.of(pending);
      }
      abortOpen(admin, prefix + ".", Set.of());
      LOG.info(
          "tessera-kafka: ledger of '{}' read and open transactions checked in {} ms",
          prefix,
          (System.nanoTime() - start) / 1_000_000L);
      return last;
    } finally {
      admin.close(CLOSE_TIMEOUT);
    }
  }

  /**
   * Commits the chosen attempts' transactions of write {@code token} (all or, should the driver die
   * midway, the rest by the next write), then aborts every other attempt's.
   */
  void commit(
      String token,
      List<OpenTransactions.Handle> chosen,
      String queryId,
      long epoch,
      boolean wholePrefix) {
    long start = System.nanoTime();
    long[] phases = new long[4];
    Admin admin = ledger.admin();
    try {
      if (!chosen.isEmpty()) {
        requireOpen(admin, chosen);
        phases[0] = System.nanoTime();
        TransactionLedger.Entry intent =
            new TransactionLedger.Entry(
                TransactionLedger.Entry.State.COMMITTING, token, queryId, epoch, chosen);
        // Before the write: should it fail ambiguously (recorded, but no answer), Spark's abort
        // must not abort transactions the ledger may name.
        decided.add(token);
        ledger.write(prefix, intent);
        phases[1] = System.nanoTime();
        List<String> lost;
        try {
          lost = commitAll(chosen);
        } catch (TesseraException e) {
          throw new TesseraException(
              TesseraError.COMMIT_OUTCOME_UNKNOWN,
              "Committing the Kafka transactions of the write to "
                  + tableName
                  + " failed midway; the decision is recorded in ledger topic '"
                  + ledger.topic()
                  + "', and the next write (or restart) with transactionalIdPrefix '"
                  + prefix
                  + "' commits the rest. "
                  + e.getMessage(),
              e);
        }
        if (!lost.isEmpty()) {
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              "The brokers aborted "
                  + lost.size()
                  + " transactions of the write to "
                  + tableName
                  + " while the driver committed them ("
                  + lost
                  + "); the others are committed. Raise kafka.transaction.timeout.ms");
        }
        phases[2] = System.nanoTime();
        ledger.write(prefix, intent.done());
        phases[3] = System.nanoTime();
      } else if (queryId != null) {
        ledger.write(
            prefix,
            new TransactionLedger.Entry(
                TransactionLedger.Entry.State.DONE, token, queryId, epoch, List.of()));
      }
      decided.remove(token);
      long cleanup = System.nanoTime();
      // The write is committed: cleaning up after other attempts must not fail it. A streaming
      // query owns its prefix, so it also ends stragglers of its earlier micro-batches.
      Set<String> keep = new HashSet<>();
      chosen.forEach(h -> keep.add(h.transactionalId()));
      try {
        abortOpen(admin, wholePrefix ? prefix + "." : idBase(token) + ".", keep);
      } catch (RuntimeException e) {
        LOG.warn(
            "tessera-kafka: the write to {} is committed, but aborting the open transactions of"
                + " other attempts failed ({}); the brokers abort them after"
                + " kafka.transaction.timeout.ms",
            tableName,
            e.getMessage());
      }
      LOG.info(
          "tessera-kafka: {} transactions committed to {} in {} ms (check {} ms, record {} ms,"
              + " commit {} ms, done {} ms, clean-up {} ms)",
          chosen.size(),
          tableName,
          ms(start, System.nanoTime()),
          chosen.isEmpty() ? 0 : ms(start, phases[0]),
          chosen.isEmpty() ? 0 : ms(phases[0], phases[1]),
          chosen.isEmpty() ? 0 : ms(phases[1], phases[2]),
          chosen.isEmpty() ? 0 : ms(phases[2], phases[3]),
          ms(cleanup, System.nanoTime()));
    } finally {
      admin.close(CLOSE_TIMEOUT);
    }
  }

  private static long ms(long from, long to) {
    return (to - from) / 1_000_000L;
  }

  /** Aborts every transaction of write {@code token}: those reported and any still open. */
  void abort(String token, Collection<OpenTransactions.Handle> reported) {
    if (decided.contains(token)) {
      // Spark aborts a write whose commit failed; once the ledger holds the decision, the
      // transactions it names may only be committed (by the next write under the prefix).
      LOG.warn(
          "tessera-kafka: the write to {} failed after its commit was recorded; its"
              + " transactions stay open until the next write or restart with"
              + " transactionalIdPrefix '{}' commits them",
          tableName,
          prefix);
      return;
    }
    List<String> ids = reported.stream().map(OpenTransactions.Handle::transactionalId).toList();
    endAll(ids, id -> OpenTransactions.abort(producerConfig, id), "Aborting");
    Admin admin = ledger.admin();
    try {
      abortOpen(admin, idBase(token) + ".", Set.of());
    } finally {
      admin.close(CLOSE_TIMEOUT);
    }
  }

  /**
   * Fails, before anything is committed, when a chosen transaction is no longer open: the brokers
   * aborted it because the write outlived {@code transaction.timeout.ms}, or another write under
   * the same prefix fenced it.
   */
  private void requireOpen(Admin admin, List<OpenTransactions.Handle> chosen) {
    List<String> ids = chosen.stream().map(OpenTransactions.Handle::transactionalId).toList();
    Map<String, TransactionDescription> states;
    try {
      states = admin.describeTransactions(ids).all().get();
    } catch (ExecutionException e) {
      throw failed("Describing the write's transactions", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failed("Describing the write's transactions", e);
    }
    List<String> closed = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (OpenTransactions.Handle h : chosen) {
      TransactionDescription d = states.get(h.transactionalId());
      if (d == null
          || d.state() != TransactionState.ONGOING
          || d.producerId() != h.producerId()
          || d.producerEpoch() != h.epoch()) {
        closed.add(h.transactionalId() + (d == null ? "" : " (" + d.state() + ")"));
      } else if (d.transactionStartTimeMs().isPresent()) {
        // Committing one by one must not race the brokers' timeout: some would commit, others
        // be aborted. Too close to it, commit none.
        long left = d.transactionStartTimeMs().getAsLong() + d.transactionTimeoutMs() - now;
        if (left < Math.max(5_000L, d.transactionTimeoutMs() / 10)) {
          closed.add(h.transactionalId() + " (" + Math.max(0, left) + " ms before its timeout)");
        }
      }
    }
    if (!closed.isEmpty()) {
      throw new TesseraException(
          TesseraError.COMMIT_FAILED,
          "The write to "
              + tableName
              + " is not committed (no record of it is visible to read_committed consumers): "
              + closed.size()
              + " of its task transactions were no longer open when the driver came to commit"
              + " them: "
              + closed
              + ". Either the write took longer than kafka.transaction.timeout.ms ("
              + transactionTimeoutMs()
              + " ms; raise it, and the brokers' transaction.max.timeout.ms if needed), or"
              + " another write with transactionalIdPrefix '"
              + prefix
              + "' started meanwhile (each sink needs its own prefix). The transactions are"
              + " aborted");
    }
  }

  /** Commits each transaction; returns those the brokers had aborted meanwhile. */
  private List<String> commitAll(List<OpenTransactions.Handle> handles) {
    List<String> lost = java.util.Collections.synchronizedList(new ArrayList<>());
    int failAfter = failAfterCommitsForTests;
    if (failAfter >= 0) {
      failAfterCommitsForTests = -1;
      for (OpenTransactions.Handle h : handles.subList(0, Math.min(failAfter, handles.size()))) {
        OpenTransactions.commit(producerConfig, h);
      }
      throw new TesseraException(
          TesseraError.COMMIT_FAILED,
          "injected: the driver stops after committing " + failAfter + " transactions");
    }
    endAll(
        handles,
        h -> {
          try {
            OpenTransactions.commit(producerConfig, h);
          } catch (ProducerFencedException
              | InvalidProducerEpochException
              | InvalidPidMappingException e) {
            lost.add(h.transactionalId());
          }
        },
        "Committing");
    return lost;
  }

  private <T> void endAll(Collection<T> items, Consumer<T> end, String what) {
    List<Future<?>> running = new ArrayList<>();
    for (T item : items) {
      running.add(ENDING.submit(() -> end.accept(item)));
    }
    Throwable first = null;
    for (Future<?> f : running) {
      try {
        f.get();
      } catch (ExecutionException e) {
        first = first == null ? e.getCause() : first;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw failed(what + " Kafka transactions of the write to " + tableName, first);
    }
  }

  /** Aborts the open transactions whose ids start with {@code idPrefix}, but those in keep. */
  private void abortOpen(Admin admin, String idPrefix, Set<String> keep) {
    Collection<TransactionListing> open;
    try {
      open =
          admin
              .listTransactions(
                  new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING)))
              .all()
              .get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnsupportedVersionException) {
        LOG.warn(
            "tessera-kafka: the brokers cannot list transactions (Kafka before 3.0); open"
                + " transactions of failed attempts end after transaction.timeout.ms");
        return;
      }
      throw failed("Listing open transactions", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failed("Listing open transactions", e);
    }
    List<String> stale =
        open.stream()
            .map(TransactionListing::transactionalId)
            .filter(id -> id.startsWith(idPrefix) && !keep.contains(id))
            .toList();
    if (!stale.isEmpty()) {
      LOG.info(
          "tessera-kafka: aborting {} open transactions of attempts Spark did not choose under"
              + " '{}'",
          stale.size(),
          idPrefix);
      endAll(stale, id -> OpenTransactions.abort(producerConfig, id), "Aborting");
    }
  }

  private TesseraException failed(String what, Throwable cause) {
    if (cause instanceof TesseraException t) {
      return t;
    }
    return new TesseraException(
        TesseraError.COMMIT_FAILED,
        what
            + " failed: "
            + Redaction.redactText(String.valueOf(cause), secrets)
            + "; check that the brokers are reachable and that the Kafka user has DESCRIBE and"
            + " WRITE on transactional ids with prefix '"
            + prefix
            + "'",
        Redaction.redactThrowable(cause, secrets));
  }
}
