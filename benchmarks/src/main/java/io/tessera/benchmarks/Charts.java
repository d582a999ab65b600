package io.tessera.benchmarks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A PNG of every contender's speed relative to its workload's baseline: one group per workload,
 * horizontal bars with their labels on the left, Spark's built-in writers, Tessera and the physical
 * limit (or reference) in three colours, and a line at 1.0x.
 */
final class Charts {
  static final Color SPARK = new Color(0x5B, 0x84, 0xB1);
  static final Color TESSERA = new Color(0xE0, 0x7B, 0x39);
  static final Color LIMIT = new Color(0x80, 0x80, 0x80);
  static final Color DELTA = new Color(0x3C, 0x9D, 0x6B);

  private static final int WIDTH = 1400;
  private static final int LABEL_WIDTH = 620;
  private static final int BAR_HEIGHT = 22;
  private static final int ROW = 30;
  private static final int GROUP_GAP = 18;

  private Charts() {}

  /** Which of the four kinds a contender is, by its name. */
  static Color colour(String contender) {
    if (contender.startsWith("Tessera")) {
      return TESSERA;
    }
    if (contender.startsWith("Delta Lake")) {
      return DELTA;
    }
    if (contender.startsWith("Physical limit") || contender.startsWith("Reference")) {
      return LIMIT;
    }
    return SPARK;
  }

  static void write(List<BenchmarkRunner.Result> results, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    double max = 1.0;
    int rows = 0;
    for (BenchmarkRunner.Result r : results) {
      rows += r.lines().size();
      for (BenchmarkRunner.Line l : r.lines()) {
        max = Math.max(max, l.ratio());
      }
    }
    max = Math.ceil(max * 1.15 * 2) / 2; // room for the value labels, in half steps
    int top = 90;
    int height = top + rows * ROW + results.size() * (ROW + GROUP_GAP) + 40;
    BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, height);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
      g.drawString("Speed relative to Spark's default built-in writer (higher is faster)", 20, 32);
      legend(g, 20, 60);
      int plotLeft = LABEL_WIDTH + 20;
      int plotWidth = WIDTH - plotLeft - 40;
      int y = top;
      for (BenchmarkRunner.Result r : results) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(r.title(), 20, y + 20);
        y += ROW;
        // The baseline, 1.0x, first: bars and value labels are drawn over it.
        int x1 = plotLeft + (int) Math.round(plotWidth / max);
        g.setColor(Color.BLACK);
        g.setStroke(
            new BasicStroke(
                1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f}, 0f));
        g.drawLine(x1, y - 4, x1, y + (r.lines().size() - 1) * ROW + BAR_HEIGHT + 4);
        g.setStroke(new BasicStroke(1f));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        for (BenchmarkRunner.Line l : r.lines()) {
          FontMetrics fm = g.getFontMetrics();
          g.setColor(Color.DARK_GRAY);
          g.drawString(fit(l.name(), fm, LABEL_WIDTH - 30), 30, y + 16);
          int w = (int) Math.round(plotWidth * l.ratio() / max);
          g.setColor(colour(l.name()));
          g.fillRect(plotLeft, y, Math.max(w, 1), BAR_HEIGHT);
          String value = String.format("%.2fx", l.ratio());
          int vx = plotLeft + w + 6;
          g.setColor(Color.WHITE);
          g.fillRect(vx - 2, y + 2, fm.stringWidth(value) + 4, BAR_HEIGHT - 4);
          g.setColor(Color.BLACK);
          g.drawString(value, vx, y + 16);
          y += ROW;
        }
        y += GROUP_GAP;
      }
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      g.setColor(Color.DARK_GRAY);
      g.drawString("dashed line: 1.0x (Spark's default setting of each workload)", 20, height - 15);
    } finally {
      g.dispose();
    }
    ImageIO.write(image, "png", png.toFile());
  }

  private static void legend(Graphics2D g, int x, int y) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    String[] names = {"Spark built-in", "Tessera", "Delta Lake", "physical limit / reference"};
    Color[] colours = {SPARK, TESSERA, DELTA, LIMIT};
    for (int i = 0; i < names.length; i++) {
      g.setColor(colours[i]);
      g.fillRect(x, y - 12, 16, 16);
      g.setColor(Color.BLACK);
      g.drawString(names[i], x + 22, y + 2);
      x += 30 + g.getFontMetrics().stringWidth(names[i]) + 20;
    }
  }

  /**
   * Re-draws the chart of a results file: {@code Charts <results.md> <out.png>} (reads its "###
   * workload" headings and the contender tables' last column).
   */
  public static void main(String[] args) throws IOException {
    write(parse(java.nio.file.Files.readAllLines(Path.of(args[0]))), Path.of(args[1]));
  }

  /** The workloads and ratios of a results markdown file. */
  static List<BenchmarkRunner.Result> parse(List<String> lines) {
    List<BenchmarkRunner.Result> out = new java.util.ArrayList<>();
    String title = null;
    List<BenchmarkRunner.Line> rows = new java.util.ArrayList<>();
    for (String line : lines) {
      if (line.startsWith("### ")) {
        if (title != null && !rows.isEmpty()) {
          out.add(new BenchmarkRunner.Result(title, rows));
        }
        title = line.substring(4).trim();
        rows = new java.util.ArrayList<>();
      } else if (title != null
          && line.startsWith("| ")
          && line.trim().endsWith("x |")
          && !line.startsWith("| contender")) {
        String[] cells = line.split("\\|");
        String name = cells[1].trim();
        String ratio = cells[cells.length - 1].trim();
        rows.add(
            new BenchmarkRunner.Line(
                name, 0, 0, 0, 0, Double.parseDouble(ratio.substring(0, ratio.length() - 1))));
      }
    }
    if (title != null && !rows.isEmpty()) {
      out.add(new BenchmarkRunner.Result(title, rows));
    }
    return out;
  }

  /** The label, shortened with an ellipsis until it fits {@code width} pixels. */
  static String fit(String label, FontMetrics fm, int width) {
    if (fm.stringWidth(label) <= width) {
      return label;
    }
    String s = label;
    while (s.length() > 1 && fm.stringWidth(s + "...") > width) {
      s = s.substring(0, s.length() - 1);
    }
    return s + "...";
  }
}
