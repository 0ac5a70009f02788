import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** apps/dashboard beside this app: from apps/logging/{src,dist}/dashboard/ up three. */
export function defaultDashboardDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dashboard');
}

/**
 * The front end's files by URL path under /dashboard, read once at start: the page and its styles
 * (public/), the compiled scripts (dist/, as /dashboard/js/), and uPlot from node_modules (as
 * /dashboard/vendor/). A fixed set of files, so no request path ever reaches the file system.
 */
export function loadDashboardAssets(dashboardDir: string): Map<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  const add = (urlPath: string, file: string) => {
    const contentType = CONTENT_TYPES[extname(file)];
    if (contentType !== undefined) assets.set(urlPath, { body: readFileSync(file), contentType });
  };
  const addTree = (urlPrefix: string, dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (statSync(file).isDirectory()) addTree(`${urlPrefix}${name}/`, file);
      else if (!name.endsWith('.d.ts') && !name.endsWith('.d.ts.map') && !name.endsWith('.tsbuildinfo')) {
        add(`${urlPrefix}${name}`, file);
      }
    }
  };
  addTree('', join(dashboardDir, 'public'));
  addTree('js/', join(dashboardDir, 'dist'));
  const uplot = dirname(createRequire(join(dashboardDir, 'package.json')).resolve('uplot'));
  add('vendor/uPlot.esm.js', join(uplot, 'uPlot.esm.js'));
  add('vendor/uPlot.min.css', join(uplot, 'uPlot.min.css'));
  return assets;
}

const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g;

/** The CSP sources of the page's inline scripts (its import map): their SHA-256, as `'sha256-…'`. */
export function inlineScriptSources(html: string): string[] {
  return [...html.matchAll(INLINE_SCRIPT)].map(
    ([, body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`,
  );
}
