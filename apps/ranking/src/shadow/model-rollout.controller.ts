import { AdfunnelError } from '@adfunnel/contracts';
import { AdminTokenGuard, formatZodError } from '@adfunnel/platform';
import { Body, Controller, Delete, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { type RolloutOutcome, ModelRolloutService } from './model-rollout.service.js';
import { type ShadowStatus, ShadowModelService } from './shadow-model.service.js';

const version = z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'expected a version directory name' });
const ShadowBodySchema = z.strictObject({
  version,
  sample: z.number().min(0).max(1).optional(),
});
const PromoteBodySchema = z.strictObject({ version: version.optional() });

export interface RolloutView {
  current: string | null;
  previous: string | null;
  serving: string;
  shadow: ShadowStatus;
}

/**
 * Safe rollout on the service's internal port, beside GET /admin/model and its reload: a candidate
 * in shadow, promote, rollback. All need `Authorization: Bearer <ADMIN_TOKEN>`.
 */
@Controller('admin/model')
@UseGuards(AdminTokenGuard)
export class ModelRolloutController {
  constructor(
    private readonly rollout: ModelRolloutService,
    private readonly shadow: ShadowModelService,
  ) {}

  @Get('rollout')
  async show(): Promise<RolloutView> {
    const { current, previous } = await this.rollout.pointers();
    const shadow = this.shadow.status();
    return { current: current ?? null, previous: previous ?? null, serving: shadow.liveVersion, shadow };
  }

  @Get('shadow')
  shadowStatus(): ShadowStatus {
    return this.shadow.status();
  }

  /** Body `{version, sample?}`; 200 once the shadow is loaded and scoring. */
  @Post('shadow')
  @HttpCode(200)
  startShadow(@Body() body: unknown): Promise<ShadowStatus> {
    const { version, sample } = parse(ShadowBodySchema, body ?? {});
    return this.shadow.start(version, sample);
  }

  /** 200 with the stopped shadow's final counts once its last records are handed to the log. */
  @Delete('shadow')
  stopShadow(): Promise<ShadowStatus> {
    return this.shadow.stop();
  }

  /** Body `{version?}`: without one, the running shadow's version. */
  @Post('promote')
  @HttpCode(200)
  promote(@Body() body: unknown): Promise<RolloutOutcome> {
    return this.rollout.promote(parse(PromoteBodySchema, body ?? {}).version);
  }

  @Post('rollback')
  @HttpCode(200)
  rollback(): Promise<RolloutOutcome> {
    return this.rollout.rollback();
  }
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AdfunnelError('invalid_request', formatZodError(parsed.error));
  return parsed.data;
}
