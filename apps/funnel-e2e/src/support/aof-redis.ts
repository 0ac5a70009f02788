import { ScratchRedis } from '@adfunnel/testing';

/**
 * A Redis of the test's own with the append-only file as production runs it (docker/compose.yml:
 * appendonly yes, appendfsync always), so a test can crash it and restart it on the same data.
 */
export function startAofRedis(): Promise<ScratchRedis> {
  return ScratchRedis.start(['--appendonly', 'yes', '--appendfsync', 'always']);
}
