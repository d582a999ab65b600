package io.tessera.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/** A PNG bar chart of every contender's speed relative to its workload's baseline. */
final class Charts {
  private Charts() {}

  static void write(List<BenchmarkRunner.Result> results, Path png) throws IOException {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(1400)
            .height(1100)
            .title("Speed relative to Spark's built-in writer (higher is faster)")
            .xAxisTitle("")
            .yAxisTitle("x baseline (best of N)")
            .build();
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setXAxisLabelRotation(60);
    chart.getStyler().setLegendVisible(false);
    List<String> names = new ArrayList<>();
    List<Double> ratios = new ArrayList<>();
    for (BenchmarkRunner.Result r : results) {
      for (BenchmarkRunner.Line l : r.lines()) {
        names.add(shortName(r.title()) + ": " + l.name());
        ratios.add(Math.round(l.ratio() * 100) / 100.0);
      }
    }
    chart.addSeries("ratio", names, ratios);
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  private static String shortName(String title) {
    int comma = title.indexOf(',');
    return comma < 0 ? title : title.substring(0, comma);
  }
}
