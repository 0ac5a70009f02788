import { describe, expect, it } from '@jest/globals';
import { ProgressBar } from './progress-bar.js';

const progress = (completed: number, elapsedMs = 1000) => ({
  started: completed,
  completed,
  errors: 0,
  impressions: 3 * completed,
  clicks: completed / 10,
  elapsedMs,
});

describe(ProgressBar.name, () => {
  it('writes a plain line every 10% when the output is not a terminal', () => {
    const lines: string[] = [];
    const sut = new ProgressBar({ write: (t: string) => lines.push(t) }, { requests: 100, durationMs: null });
    for (let i = 0; i <= 100; i++) sut.update(progress(i));
    expect(lines).toHaveLength(11);
    expect(lines[10]).toMatch(/^sim: 100% 100 requests .* CTR 3\.33%/);
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });

  it('redraws one line in place on a terminal, and follows the wall clock under --duration', () => {
    const out: string[] = [];
    const sut = new ProgressBar(
      { write: (t: string) => out.push(t), isTTY: true, columns: 200 },
      { requests: null, durationMs: 10_000 },
    );
    sut.update(progress(5, 5000), 1000);
    sut.update(progress(6, 5100), 1050);
    sut.update(progress(9, 10_000), 2000);
    sut.finish();
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^\r\[#{14}-{14}\] {2}50% /);
    expect(out[1]).toMatch(/100%/);
    expect(out[2]).toBe('\n');
  });
});
