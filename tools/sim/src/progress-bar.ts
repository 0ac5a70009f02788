import type { DriverProgress } from './traffic-driver.js';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressTarget {
  requests: number | null;
  durationMs: number | null;
}

const BAR_WIDTH = 28;
const REDRAW_MS = 100;

/**
 * A progress bar on stderr: redrawn in place on a terminal, or a plain line every `everyPercent`
 * percent when the output is a file or a pipe (CI logs stay readable).
 */
export class ProgressBar {
  private lastDraw = 0;
  private lastStep = -1;
  private drawn = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly target: ProgressTarget,
    private readonly everyPercent = 10,
  ) {}

  update(p: DriverProgress, now = Date.now()): void {
    const fraction = this.fraction(p);
    if (this.out.isTTY === true) {
      if (now - this.lastDraw < REDRAW_MS && fraction < 1) return;
      this.lastDraw = now;
      const filled = Math.round(fraction * BAR_WIDTH);
      const line = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${pct(fraction)} ${describe(p)}`;
      this.out.write(`\r${line.slice(0, (this.out.columns ?? 120) - 1)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const step = Math.floor((fraction * 100) / this.everyPercent);
    if (step <= this.lastStep) return;
    this.lastStep = step;
    this.out.write(`sim: ${pct(fraction)} ${describe(p)}\n`);
  }

  /** Ends the in-place line so what follows starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  private fraction(p: DriverProgress): number {
    const byRequests = this.target.requests === null ? 0 : p.completed / this.target.requests;
    const byTime = this.target.durationMs === null ? 0 : p.elapsedMs / this.target.durationMs;
    return Math.min(1, Math.max(byRequests, byTime));
  }
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(0).padStart(3)}%`;
}

function describe(p: DriverProgress): string {
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.completed / seconds : 0;
  const ctr = p.impressions > 0 ? ((100 * p.clicks) / p.impressions).toFixed(2) : '-';
  return `${p.completed} requests (${rate.toFixed(1)}/s)  ${p.impressions} impressions  CTR ${ctr}%  errors ${p.errors}  ${seconds.toFixed(0)} s`;
}
