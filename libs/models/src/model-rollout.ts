import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FeatureSpec } from '@adfunnel/features';
import { AdfunnelError } from '@adfunnel/contracts';
import { assertFeatureSpec } from './assert-feature-spec.js';
import { CURRENT_FILE, type ResolvedModel, resolveModelVersion } from './resolve-current-model.js';

/** The version `current` named before the last promote: what a rollback returns to. */
export const PREVIOUS_FILE = 'previous';
/** One JSON line per promote or rollback, for the operator; never read to decide anything. */
export const HISTORY_FILE = 'history.jsonl';

export interface RolloutPointers {
  current: string | undefined;
  previous: string | undefined;
}

export interface PointerChange {
  action: 'promote' | 'rollback';
  /** The version `current` names now. */
  version: string;
  /** The version it named before. */
  from: string;
  /** What a further rollback would return to; undefined after a rollback. */
  previous: string | undefined;
  at: string;
}

/** A promote or rollback that cannot be done as asked; nothing was written. */
export class RolloutRefusedError extends AdfunnelError {
  constructor(
    message: string,
    readonly refusal: 'unknown_version' | 'feature_spec_mismatch' | 'nothing_to_roll_back' | 'already_current',
  ) {
    super(refusal === 'unknown_version' ? 'not_found' : 'conflict', message, refusal);
    this.name = 'RolloutRefusedError';
  }
}

export async function readRolloutPointers(modelsRoot: string, name: string): Promise<RolloutPointers> {
  const root = resolve(modelsRoot, name);
  return {
    current: await readPointer(join(root, CURRENT_FILE)),
    previous: await readPointer(join(root, PREVIOUS_FILE)),
  };
}

/**
 * The version, checked the way serving checks it (manifest, ONNX file, feature spec), or a refusal
 * saying which check failed.
 */
export async function servableVersion(
  modelsRoot: string,
  name: string,
  version: string,
  spec: FeatureSpec,
): Promise<ResolvedModel> {
  let model: ResolvedModel;
  try {
    model = await resolveModelVersion(modelsRoot, name, version);
  } catch (err) {
    throw new RolloutRefusedError(
      `unknown version ${name}@${version}: ${(err as Error).message}`,
      'unknown_version',
    );
  }
  try {
    assertFeatureSpec(model.manifest, spec);
  } catch (err) {
    throw new RolloutRefusedError((err as Error).message, 'feature_spec_mismatch');
  }
  return model;
}

/**
 * Makes `version` current and records the one it replaces in `previous`. `previous` is written
 * before `current`, each by rename, so a crash between the two leaves the old version serving.
 */
export async function promoteVersion(
  modelsRoot: string,
  name: string,
  version: string,
  spec: FeatureSpec,
  now: Date = new Date(),
): Promise<PointerChange> {
  await servableVersion(modelsRoot, name, version, spec);
  const root = resolve(modelsRoot, name);
  const { current } = await readRolloutPointers(modelsRoot, name);
  if (current === version) {
    throw new RolloutRefusedError(`${name}@${version} is already current`, 'already_current');
  }
  if (current !== undefined) await writePointer(join(root, PREVIOUS_FILE), current);
  await writePointer(join(root, CURRENT_FILE), version);
  return record(root, {
    action: 'promote',
    version,
    from: current ?? '',
    previous: current,
    at: now.toISOString(),
  });
}

/**
 * Makes `previous` current again and removes `previous`, so a second rollback is refused rather than
 * flipping back (promote the version again to retry it). `current` is written first: a crash
 * between the two leaves the rolled-back version serving and a rollback that refuses as already current.
 */
export async function rollbackVersion(
  modelsRoot: string,
  name: string,
  spec: FeatureSpec,
  now: Date = new Date(),
): Promise<PointerChange> {
  const root = resolve(modelsRoot, name);
  const { current, previous } = await readRolloutPointers(modelsRoot, name);
  if (previous === undefined) {
    throw new RolloutRefusedError(
      `nothing to roll back to: ${join(root, PREVIOUS_FILE)} does not exist (no promote since the last rollback)`,
      'nothing_to_roll_back',
    );
  }
  if (previous === current) {
    throw new RolloutRefusedError(
      `nothing to roll back to: ${name}@${previous} is already current`,
      'already_current',
    );
  }
  await servableVersion(modelsRoot, name, previous, spec);
  await writePointer(join(root, CURRENT_FILE), previous);
  await rm(join(root, PREVIOUS_FILE), { force: true });
  return record(root, {
    action: 'rollback',
    version: previous,
    from: current ?? '',
    previous: undefined,
    at: now.toISOString(),
  });
}

/**
 * Puts both pointers back as they were read before a change (a change the service could not load):
 * `previous` first, then `current`, like a promote.
 */
export async function restorePointers(
  modelsRoot: string,
  name: string,
  pointers: RolloutPointers,
): Promise<void> {
  const root = resolve(modelsRoot, name);
  if (pointers.previous === undefined) await rm(join(root, PREVIOUS_FILE), { force: true });
  else await writePointer(join(root, PREVIOUS_FILE), pointers.previous);
  if (pointers.current !== undefined) await writePointer(join(root, CURRENT_FILE), pointers.current);
}

/** Writes a pointer file by rename, so a reader (the watcher, a restart) never sees half a name. */
export async function writePointer(path: string, version: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, `${version}\n`);
  await rename(temporary, path);
}

async function readPointer(path: string): Promise<string | undefined> {
  try {
    const version = (await readFile(path, 'utf8')).trim();
    return version === '' ? undefined : version;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function record(root: string, change: PointerChange): Promise<PointerChange> {
  await appendFile(join(root, HISTORY_FILE), `${JSON.stringify(change)}\n`);
  return change;
}
