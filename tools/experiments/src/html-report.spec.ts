import { describe, expect, it } from '@jest/globals';
import { type ExperimentRequestRow, analyzeExperiments } from '@adfunnel/experiments';
import { esc, renderHtmlReport } from './html-report.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 11, 1);

/** Two days of a control and a treatment arm whose name needs escaping, a holdout, and a pre-period. */
function fixture() {
  const rows: ExperimentRequestRow[] = [];
  const preRows: ExperimentRequestRow[] = [];
  const add = (
    out: ExperimentRequestRow[],
    userId: string,
    label: string,
    servedAt: number,
    clicks: number,
  ) =>
    out.push({
      requestId: `r${rows.length + preRows.length}`,
      userId,
      label,
      ads: 3,
      impressions: 3,
      clicks,
      conversions: clicks > 1 ? 1 : 0,
      hides: 0,
      revenue: clicks * 0.5,
      advertiserValue: clicks * 0.6,
      servedAt,
    });
  const arms = ['auction:pricing/control', 'auction:pricing/t<b>&"1'];
  for (let i = 0; i < 40; i++) {
    const label = i < 5 ? 'holdout' : arms[i % 2];
    for (let day = 0; day < 2; day++)
      add(rows, `u${i}`, label, START + day * DAY + i * 1000, (i * (day + 1)) % 3);
    add(preRows, `u${i}`, '', START - DAY + i, i % 3);
  }
  const analysis = analyzeExperiments(rows, {
    preRows,
    shares: {
      holdout: 0.1,
      layers: [
        {
          name: 'auction',
          unit: 'user',
          arms: [
            { experiment: 'pricing', arm: 'control', share: 0.5 },
            { experiment: 'pricing', arm: 't<b>&"1', share: 0.5 },
          ],
        },
      ],
    },
  });
  return {
    ...analysis,
    window: { since: START, until: START + 2 * DAY, limit: 500_000, requests: rows.length, truncated: false },
    prePeriod: {
      since: START - DAY,
      until: START,
      limit: 500_000,
      requests: preRows.length,
      truncated: false,
    },
    shares: null,
    sharesProblem: 'EXPERIMENTS_CONFIG: <script>alert(1)</script>',
  };
}

describe(renderHtmlReport.name, () => {
  const html = renderHtmlReport(fixture());

  it('is one self-contained page: no script, no external resource', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\bsrc=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('has the config, the sample-ratio checks, the arms and a plot per comparison and per series', () => {
    expect(html).toContain('<h2>Configuration</h2>');
    expect(html).toContain('<h2>Layer auction</h2>');
    expect(html).toContain('Sample-ratio check over users');
    expect(html).toContain('<h2>Holdout against the rest</h2>');
    expect(html).toContain('<td>control</td>');
    expect(html).toContain('<td>holdout</td>');
    // The forest plots: one per comparison (the arm's, the holdout's), five series plots per experiment and for the holdout.
    const svgs = html.match(/<svg /g) ?? [];
    expect(svgs.length).toBe(2 + 5 * 2);
    expect(html.match(/aria-label="forest plot: /g)?.length).toBe(2);
    expect(html.match(/<\/svg>/g)?.length).toBe(svgs.length);
    // The series plots draw a band and a line per arm over the two days.
    expect(html).toMatch(/<polygon points="[^"]+" fill="#1f77b4" fill-opacity="0.15"/);
    expect(html).toMatch(/<polyline points="[^"]+" fill="none" stroke="#ff7f0e"/);
    expect(html).toContain('12-01');
    expect(html).toContain('12-02');
    // CUPED next to the plain comparison.
    expect(html).toContain('CUPED difference [95% CI]');
    expect(html).toContain('a user with none has covariate 0');
  });

  it('escapes every text from the report', () => {
    expect(html).not.toContain('t<b>&"1');
    expect(html).toContain(esc('t<b>&"1'));
    expect(html).toContain('t&#60;b&#62;&#38;&#34;1');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    // Nothing but the page's own tags: every < opens a known element.
    const tags = new Set([...html.matchAll(/<\/?([a-zA-Z0-9!]+)/g)].map((m) => m[1].toLowerCase()));
    const known = [
      '!doctype',
      'html',
      'head',
      'meta',
      'title',
      'style',
      'body',
      'h1',
      'h2',
      'h3',
      'h4',
      'p',
      'dl',
      'dt',
      'dd',
      'section',
      'table',
      'thead',
      'tbody',
      'tr',
      'th',
      'td',
      'span',
      'div',
      'svg',
      'text',
      'line',
      'circle',
      'rect',
      'polygon',
      'polyline',
    ];
    expect([...tags].filter((t) => !known.includes(t))).toEqual([]);
  });
});
