package io.tessera.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ChartsTest {
  @Test
  void resultsFilesAreParsedAndDrawnInGroupsWithThreeColours() throws Exception {
    List<String> md =
        List.of(
            "# Tessera benchmarks",
            "### PostgreSQL append, 2,000,000 rows x 5 columns, local[2]",
            "",
            "| contender | best s | min / median / max s | rows/s (best) | best vs baseline |",
            "|---|---:|---:|---:|---:|",
            "| Spark df.write.jdbc (default) | 6.18 | 6.18 / 7.04 / 7.19 | 323,503 | 1.00x |",
            "| Tessera commit=atomic (COPY + staging) | 3.81 | 3.81 / 4.51 / 4.82 | 525,299 | 1.62x |",
            "| Physical limit: pgjdbc CopyManager, 2 threads | 1.63 | 1.63 / 2.01 / 2.01 | 1,230,063 | 3.80x |",
            "### Kafka, 1,000,000 records",
            "| Spark format(kafka) | 2.96 | 2.96 / 3.14 / 7.41 | 337,956 | 1.00x |",
            "| Tessera defaults | 1.05 | 1.05 / 1.30 / 1.36 | 953,152 | 2.82x |");
    List<BenchmarkRunner.Result> results = Charts.parse(md);
    assertThat(results)
        .extracting(BenchmarkRunner.Result::title)
        .containsExactly(
            "PostgreSQL append, 2,000,000 rows x 5 columns, local[2]", "Kafka, 1,000,000 records");
    assertThat(results.get(0).lines())
        .extracting(BenchmarkRunner.Line::ratio)
        .containsExactly(1.00, 1.62, 3.80);

    Path png = Files.createDirectories(Path.of("target")).resolve("charts-test.png");
    Charts.write(results, png);
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isEqualTo(1400);
    int spark = 0;
    int tessera = 0;
    int limit = 0;
    for (int x = 0; x < image.getWidth(); x++) {
      for (int y = 0; y < image.getHeight(); y++) {
        int rgb = image.getRGB(x, y) & 0xFFFFFF;
        spark += rgb == (Charts.SPARK.getRGB() & 0xFFFFFF) ? 1 : 0;
        tessera += rgb == (Charts.TESSERA.getRGB() & 0xFFFFFF) ? 1 : 0;
        limit += rgb == (Charts.LIMIT.getRGB() & 0xFFFFFF) ? 1 : 0;
      }
    }
    // Bars of each kind are drawn in their own colour (plus the legend's swatches).
    assertThat(spark).isGreaterThan(1000);
    assertThat(tessera).isGreaterThan(1000);
    assertThat(limit).isGreaterThan(1000);
    assertThat(Charts.colour("Reference: plain KafkaProducer")).isEqualTo(Charts.LIMIT);
    assertThat(Charts.colour("Tessera commit=direct (COPY)")).isEqualTo(Charts.TESSERA);
    assertThat(Charts.colour("Spark df.write.parquet")).isEqualTo(Charts.SPARK);
    assertThat(Charts.colour("Delta Lake 4.2.0 format(delta)")).isEqualTo(Charts.DELTA);
  }
}
