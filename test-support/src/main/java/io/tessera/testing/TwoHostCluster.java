package io.tessera.testing;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.master.Master$;
import org.apache.spark.deploy.worker.Worker$;
import org.apache.spark.rpc.RpcEnv;
import scala.Option;

/**
 * A Spark standalone cluster inside the test JVM, like {@code local-cluster}, but with its two
 * workers on two loopback addresses (127.0.0.1 and 127.0.0.2), so Spark sees two hosts. That is
 * what speculation needs: Spark never starts a speculative copy of a task on the host where an
 * attempt of it runs, and {@code local-cluster} puts every executor on one host. Executors are
 * separate JVMs (one core, 1 GiB each) started by the workers; they need {@code SPARK_HOME} and
 * {@code SPARK_SCALA_VERSION} in the environment, as for {@code local-cluster}.
 */
public final class TwoHostCluster {
  public static final String MASTER = "two-hosts";

  private TwoHostCluster() {}

  /** Starts the master and both workers; returns the master URL. */
  public static String start(Path workDir) {
    SparkConf conf =
        new SparkConf(false)
            .set("spark.master.rest.enabled", "false")
            .set("spark.shuffle.service.enabled", "false")
            .set("spark.ui.enabled", "false");
    RpcEnv master = Master$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, conf)._1();
    String url = "spark://127.0.0.1:" + master.address().port();
    int n = 0;
    for (String host : List.of("127.0.0.1", "127.0.0.2")) {
      n++;
      Worker$.MODULE$.startRpcEnvAndEndpoint(
          host,
          0,
          0,
          1,
          1024,
          new String[] {url},
          workDir.resolve("worker-" + n).toString(),
          Option.apply((Object) n),
          conf,
          Option.empty());
    }
    return url;
  }
}
