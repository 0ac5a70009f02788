import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CURRENT_FILE } from './resolve-current-model.js';

export interface CurrentPointerWatcherOptions {
  /** `<modelsRoot>/<name>`: the directory holding the `current` file. */
  modelRoot: string;
  /** The version the caller serves now; only a different one is reported. */
  initialVersion: string;
  /** Called with the new version named by `current`; calls never overlap. */
  onChange: (version: string) => Promise<void>;
  /** Poll period; fs.watch events are not delivered on every file system (NFS, some containers). */
  pollMs: number;
  onError?: (err: Error) => void;
}

/**
 * Watches `<modelRoot>/current` (fs.watch on the directory, plus polling as a fallback) and reports
 * each new version it names. Deploy by writing the version directory first and then replacing
 * `current` (write a temporary file and rename it over `current`, so a reader never sees half a name).
 */
export class CurrentPointerWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seen: string;
  private checking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: CurrentPointerWatcherOptions) {
    this.seen = options.initialVersion;
  }

  start(): void {
    const dir = resolve(this.options.modelRoot);
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, file) => {
        if (file === null || file === CURRENT_FILE) this.check();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = undefined;
    }
    this.timer = setInterval(() => this.check(), this.options.pollMs);
    this.timer.unref();
  }

  /** Stops watching and waits for a change being handled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    await this.checking;
  }

  private check(): void {
    if (this.stopped) return;
    this.checking = this.checking.then(() => this.compare());
  }

  private async compare(): Promise<void> {
    if (this.stopped) return;
    let version: string;
    try {
      version = (await readFile(join(this.options.modelRoot, CURRENT_FILE), 'utf8')).trim();
    } catch {
      return; // between an unlink and a rename, or not written yet: the next event or poll sees it
    }
    if (version === '' || version === this.seen) return;
    this.seen = version;
    try {
      await this.options.onChange(version);
    } catch (err) {
      this.options.onError?.(err as Error);
    }
  }
}
