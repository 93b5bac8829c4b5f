import { useEffect, useRef, useState, type MouseEvent, type RefObject } from 'react';
import { linePath, linear, niceMax, segments, ticks } from '../chart-scale';
import { formatClock } from '../format';

export interface ChartSeries {
  label: string;
  colour: string;
  /** One per sample time; null where nothing was measured (drawn as a break, never as zero). */
  values: Array<number | null>;
  /** A secondary figure (a percentile next to its mean): dashed, no area. */
  dashed?: boolean;
}

interface LineChartProps {
  title: string;
  /** Sample times, milliseconds since the epoch, ascending; one per value of each series. */
  times: number[];
  intervalMs: number;
  series: ChartSeries[];
  format: (v: number) => string;
  /** Round the axis to powers of 1024 (bytes per second). */
  binary?: boolean;
}

const HEIGHT = 150;
const PAD = { left: 64, right: 12, top: 10, bottom: 22 };

/** Follow the container's width so text stays its real size (a viewBox would scale it). */
function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(480);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => setWidth(Math.max(200, Math.floor(entry.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

/** A time series drawn by hand in SVG: gridlines, one line per series, a crosshair on hover. */
export function LineChart({ title, times, intervalMs, series, format, binary }: LineChartProps) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const [hoverAt, setHover] = useState<number | null>(null);
  const last = times.length - 1;
  // The window slides every refresh: a hovered index past the end is stale.
  const hover = hoverAt !== null && hoverAt <= last ? hoverAt : null;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null))), binary);
  const x = linear([times[0] ?? 0, times[last] ?? 0], [PAD.left, width - PAD.right]);
  const y = linear([0, max], [HEIGHT - PAD.bottom, PAD.top]);
  const shown = hover ?? last;
  const text = (v: number | null | undefined) => (v === null || v === undefined ? '–' : format(v));

  const move = (e: MouseEvent<SVGSVGElement>) => {
    if (times.length === 0) return;
    const px = e.clientX - e.currentTarget.getBoundingClientRect().left;
    let best = 0;
    for (let i = 1; i < times.length; i++) if (Math.abs(x(times[i]) - px) < Math.abs(x(times[best]) - px)) best = i;
    setHover(best);
  };

  const summary = series.map((s) => `${s.label} ${text(s.values[last])}`).join(', ');

  return (
    <figure className="chart">
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {series.map((s) => (
            <span key={s.label} className="chart-key">
              <span className={s.dashed ? 'swatch swatch-dashed' : 'swatch'} style={{ color: s.colour }} aria-hidden="true" />
              {s.label} <strong>{text(s.values[shown])}</strong>
            </span>
          ))}
          {hover !== null && <span>at {formatClock(times[hover])}</span>}
        </span>
      </figcaption>
      <div ref={ref} className="chart-body">
        <svg
          width={width}
          height={HEIGHT}
          role="img"
          aria-label={`${title}, latest sample: ${summary}`}
          onMouseMove={move}
          onMouseLeave={() => setHover(null)}
        >
          {ticks(max, binary).map((v) => (
            <g key={v} className="chart-grid">
              <line x1={PAD.left} x2={width - PAD.right} y1={y(v)} y2={y(v)} />
              <text x={PAD.left - 6} y={y(v)} dy="0.32em" textAnchor="end">
                {format(v)}
              </text>
            </g>
          ))}
          {times.length > 0 && (
            <g className="chart-time">
              <text x={PAD.left} y={HEIGHT - 6} textAnchor="start">
                {formatClock(times[0])}
              </text>
              <text x={width - PAD.right} y={HEIGHT - 6} textAnchor="end">
                {formatClock(times[last])}
              </text>
            </g>
          )}
          {series.map((s) => (
            <g key={s.label}>
              {segments(times, s.values, intervalMs).map((run) => {
                const pts = run.map((i) => [x(times[i]), y(s.values[i] ?? 0)] as const);
                // A lone measurement between breaks is still data: a dot, not nothing.
                if (pts.length === 1) return <circle key={run[0]} cx={pts[0][0]} cy={pts[0][1]} r={2} fill={s.colour} />;
                const line = linePath(pts);
                return (
                  <g key={run[0]}>
                    {!s.dashed && <path d={`${line} L${pts[pts.length - 1][0]} ${y(0)} L${pts[0][0]} ${y(0)} Z`} fill={s.colour} opacity={0.07} />}
                    <path
                      d={line}
                      fill="none"
                      stroke={s.colour}
                      strokeWidth={s.dashed ? 1.2 : 1.6}
                      strokeDasharray={s.dashed ? '4 3' : undefined}
                      strokeLinejoin="round"
                    />
                  </g>
                );
              })}
            </g>
          ))}
          {hover !== null && (
            <g className="chart-cursor">
              <line x1={x(times[hover])} x2={x(times[hover])} y1={PAD.top} y2={HEIGHT - PAD.bottom} />
              {series.map((s) => {
                const v = s.values[hover];
                return v === null ? null : <circle key={s.label} cx={x(times[hover])} cy={y(v)} r={3} fill={s.colour} />;
              })}
            </g>
          )}
        </svg>
      </div>
    </figure>
  );
}
