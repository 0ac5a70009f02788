import { AdminTokenGuard } from '@adfunnel/platform';
import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { type TwoTowerStatus, TwoTowerRetrievalService } from './two-tower-retrieval.service.js';

/**
 * Operator endpoints for the two-tower model on retrieval's HTTP port (`Authorization: Bearer
 * <ADMIN_TOKEN>`): which version and index serve (or why the heuristic does), and a reload of the
 * version MODELS_DIR/RETRIEVAL_MODEL/current names (also watched, RETRIEVAL_MODEL_WATCH_MS).
 */
@Controller('admin/retrieval-model')
@UseGuards(AdminTokenGuard)
export class TwoTowerAdminController {
  constructor(private readonly towers: TwoTowerRetrievalService) {}

  @Get()
  show(): TwoTowerStatus {
    return this.towers.status();
  }

  /** 200 with the status after the attempt: a refused version leaves the previous one (its `problem` says why). */
  @Post('reload')
  @HttpCode(200)
  reload(): Promise<TwoTowerStatus> {
    return this.towers.reload();
  }
}
