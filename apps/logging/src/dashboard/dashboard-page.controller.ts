import { AdfunnelError } from '@adfunnel/contracts';
import { InjectConfig } from '@adfunnel/platform';
import { Controller, Get, Logger, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { LoggingConfig } from '../config.js';
import {
  type DashboardAsset,
  defaultDashboardDir,
  inlineScriptSources,
  loadDashboardAssets,
} from './dashboard-assets.js';

/** The dashboard's page and files; the page asks for a token and reads /v1/dashboard with it. */
@Controller('dashboard')
export class DashboardPageController {
  private readonly logger = new Logger(DashboardPageController.name);
  private readonly assets: Map<string, DashboardAsset>;
  private readonly missing: string | undefined;
  private readonly csp: string;

  constructor(@InjectConfig() config: LoggingConfig) {
    const dir = config.DASHBOARD_DIR ?? defaultDashboardDir();
    try {
      this.assets = loadDashboardAssets(dir);
    } catch (error) {
      this.assets = new Map();
      this.missing = `the dashboard is not built at ${dir} (npm run build): ${(error as Error).message}`;
      this.logger.warn(this.missing);
    }
    const page = this.assets.get('index.html')?.body.toString('utf8') ?? '';
    // uPlot sets inline styles on its elements; scripts run only from here and the import map's hash.
    this.csp = [
      "default-src 'self'",
      `script-src 'self' ${inlineScriptSources(page).join(' ')}`.trim(),
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ].join('; ');
  }

  @Get()
  page(@Res({ passthrough: true }) reply: FastifyReply): Buffer {
    return this.send(reply, 'index.html');
  }

  /** Fastify's wildcard: the rest of the path after /dashboard/. */
  @Get('*')
  file(@Param('*') path: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    return this.send(reply, path);
  }

  private send(reply: FastifyReply, path: string): Buffer {
    const asset = this.assets.get(path === '' ? 'index.html' : path);
    if (asset === undefined) {
      throw new AdfunnelError('not_found', this.missing ?? `the dashboard has no file ${path}`);
    }
    void reply
      .header('content-type', asset.contentType)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', this.csp);
    return asset.body;
  }
}
