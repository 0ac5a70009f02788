/** Entities of other libraries that share the database (the event store), added to the catalog's. */
export type ExtraEntities = readonly (new (...args: never[]) => object)[];

/** Where the catalog lives: PostgreSQL when databaseUrl is set, else a SQLite file. */
export interface DatabaseConfig {
  /** postgres://user@host:port/db, optionally `?schema=name` to place every table in that schema. */
  databaseUrl?: string | undefined;
  sqlitePath: string;
  logging?: boolean | undefined;
}

export interface CatalogModuleOptions extends DatabaseConfig {
  /** How often CatalogSnapshotService reloads the ads; 0 disables. Default 60000. */
  catalogRefreshMs?: number | undefined;
  /**
   * How often CatalogSnapshotService reads the catalog's change mark (markCatalogChanged) and
   * reloads when it moved; 0 or absent: never, changes wait for catalogRefreshMs.
   */
  catalogChangePollMs?: number | undefined;
  /** Refuse to start on an empty catalog (apps that serve ads). Default true. */
  requireAds?: boolean | undefined;
  /** Entities of other libraries this app also reads and writes through the same DataSource. */
  entities?: ExtraEntities | undefined;
}
