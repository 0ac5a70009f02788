import type { CatalogSnapshot, CatalogSnapshotListener, CatalogSnapshotService } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';

/**
 * Stands in for CatalogSnapshotService: the test decides which snapshot is loaded (none, until
 * given one) and when a new catalog version appears.
 */
export class FakeCatalogSnapshots implements Pick<CatalogSnapshotService, 'snapshot' | 'onChange'> {
  private current: CatalogSnapshot | undefined;
  private readonly listeners = new Set<CatalogSnapshotListener>();

  constructor(initial?: CatalogSnapshot) {
    this.current = initial;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  snapshot(): CatalogSnapshot {
    if (this.current === undefined)
      throw new AdfunnelError('not_ready', 'catalog snapshot is not loaded yet');
    return this.current;
  }

  onChange(listener: CatalogSnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Swaps in `next` and notifies listeners, as a reload that found a new version does. */
  publish(next: CatalogSnapshot): void {
    const previous = this.current;
    this.current = next;
    for (const listener of this.listeners) listener(next, previous);
  }

  asService(): CatalogSnapshotService {
    return this as unknown as CatalogSnapshotService;
  }
}
