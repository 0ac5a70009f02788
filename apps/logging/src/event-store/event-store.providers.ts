import { CatalogReader, CatalogSnapshotService } from '@adfunnel/catalog';
import { AdfunnelError, type TrackingEventJob } from '@adfunnel/contracts';
import { type BillingContext, EventStore, eventStoreMigrationsPending } from '@adfunnel/event-store';
import { usdToMicros } from '@adfunnel/utility';
import { Injectable, Logger, type OnModuleInit, type Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';

export const eventStoreProvider: Provider = {
  provide: EventStore,
  inject: [DataSource],
  useFactory: (dataSource: DataSource) => new EventStore(dataSource),
};

/** Refuses to start on a database whose event store (ledger included) is not migrated. */
@Injectable()
export class EventStoreStartupCheck implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    const pending = await eventStoreMigrationsPending(this.dataSource);
    if (pending.length > 0) {
      throw new AdfunnelError(
        'not_ready',
        `event store has pending migrations (${pending.join(', ')}); run \`npm run catalog -- migrate\``,
      );
    }
  }
}

/** What an event's charge is held to: its campaign's daily budget now and its advertiser's time zone. */
@Injectable()
export class BillingContexts {
  private readonly logger = new Logger(BillingContexts.name);

  constructor(
    private readonly snapshots: CatalogSnapshotService,
    private readonly reader: CatalogReader,
  ) {}

  async of(event: TrackingEventJob): Promise<BillingContext> {
    const ad = this.snapshots.snapshot().byId.get(event.adId) ?? (await this.reader.findAd(event.adId));
    if (ad === null || ad.campaignId !== event.campaignId) {
      // The ad (or its campaign) left the catalog after it was served: record the event, bill nothing.
      this.logger.warn(
        `${event.type} ${event.eventId}: ad ${event.adId} of campaign ${event.campaignId} is not in the catalog; not billed`,
      );
      return { budgetMicros: 0, timeZone: 'UTC' };
    }
    return { budgetMicros: usdToMicros(ad.campaign.dailyBudget), timeZone: ad.campaign.timezone };
  }
}
