// Bar charts over categories (orgs, months, targets) drawn by uPlot on a canvas. The canvas is
// one image to assistive technology (role="img" with a label); the figures themselves are in the
// table every chart comes with. Colours follow the app's theme (CSS custom properties).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { pct } from "./api";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** bars (default) or a marker per category, e.g. a target */
  as?: "bars" | "marks";
}

interface Props {
  label: string;
  categories: string[];
  series: ChartSeries[];
  ratio?: boolean; // values are 0..1, shown as percent
  height?: number;
}

function themeColors(): string[] {
  const css = getComputedStyle(document.documentElement);
  const accent = css.getPropertyValue("--accent").trim() || "#a50f15";
  const focus = css.getPropertyValue("--focus").trim() || "#0b57d0";
  const text = css.getPropertyValue("--text").trim() || "#1c1b1a";
  return [accent, focus, text];
}

function short(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function BarChart({ label, categories, series, ratio = false, height = 260 }: Props) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el || categories.length === 0) return;
    const colors = themeColors();
    const css = getComputedStyle(document.documentElement);
    const axisColor = css.getPropertyValue("--text").trim() || "#1c1b1a";
    const grid = css.getPropertyValue("--border").trim() || "#cfc8c0";
    const bars = series.filter((s) => (s.as ?? "bars") === "bars").length;
    let barIndex = 0;
    const n = categories.length;
    const maxLabel = Math.max(6, Math.floor(120 / Math.max(1, Math.min(n, 12)) ));
    const opts: uPlot.Options = {
      width: el.clientWidth || 320,
      height,
      legend: { show: false },
      cursor: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: { time: false, range: () => [-0.5, n - 0.5] },
        y: {
          range: (_u, _min, max) => [0, ratio ? Math.max(1, max) : Math.max(1, Math.ceil(max * 1.1))],
        },
      },
      axes: [
        {
          stroke: axisColor,
          grid: { show: false },
          ticks: { show: false },
          incrs: [1],
          values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? short(categories[i] ?? "", maxLabel) : "")),
          rotate: n > 6 ? -30 : 0,
          size: n > 6 ? 90 : 40,
        },
        {
          stroke: axisColor,
          grid: { stroke: grid, width: 1 },
          values: (_u, splits) => splits.map((v) => (ratio ? pct(v) : String(v))),
          size: 56,
        },
      ],
      series: [
        {},
        ...series.map((s, i) => {
          const color = colors[i % colors.length];
          if ((s.as ?? "bars") === "marks") {
            return {
              label: s.label,
              stroke: colors[2],
              width: 0,
              points: { show: true, size: 14, stroke: colors[2], fill: colors[2], width: 2 },
              paths: () => null,
            } as uPlot.Series;
          }
          const align: -1 | 0 | 1 = bars === 1 ? 0 : barIndex++ === 0 ? 1 : -1;
          return {
            label: s.label,
            stroke: color,
            fill: color,
            width: 0,
            points: { show: false },
            paths: uPlot.paths.bars!({ size: [bars === 1 ? 0.6 : 0.4, 64], align }),
          } as uPlot.Series;
        }),
      ],
    };
    const data: uPlot.AlignedData = [categories.map((_, i) => i), ...series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth || 320, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [label, categories.join("\n"), JSON.stringify(series), ratio, height]);
  const colors = typeof document === "undefined" ? [] : themeColors();
  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={label} class="chart-canvas" />
      <figcaption>
        <ul class="chart-legend">
          {series.map((s, i) => (
            <li key={s.label}>
              <span
                class={(s.as ?? "bars") === "marks" ? "swatch mark" : "swatch"}
                style={{ background: (s.as ?? "bars") === "marks" ? colors[2] : colors[i % colors.length] }}
                aria-hidden="true"
              />
              {s.label}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
