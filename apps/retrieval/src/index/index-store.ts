import { resolve, join } from 'node:path';
import { InjectConfig } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import type { RetrievalConfig } from '../config.js';
import { defaultIndexRoot } from './index-lifecycle.config.js';

/**
 * Where this retrieval service saves its indexes (RETRIEVAL_INDEX_DIR, or the default beside the
 * catalog database): `content` for the content index, `two-tower-<model>` per two-tower model. The
 * services save only when given one, so a spec that builds them by hand never writes to disk.
 */
@Injectable()
export class IndexStore {
  /** Undefined with RETRIEVAL_INDEX_DIR=off: nothing is saved or loaded. */
  readonly root: string | undefined;

  constructor(
    @InjectConfig()
    config: Pick<RetrievalConfig, 'RETRIEVAL_INDEX_DIR' | 'DATABASE_URL' | 'SQLITE_PATH' | 'BUS_NAMESPACE'>,
  ) {
    const dir = config.RETRIEVAL_INDEX_DIR;
    this.root = dir === 'off' ? undefined : resolve(dir ?? defaultIndexRoot(config));
  }

  /** The directory of one index under the root; undefined when saving is off. */
  dirFor(name: string): string | undefined {
    return this.root === undefined ? undefined : join(this.root, name);
  }
}
