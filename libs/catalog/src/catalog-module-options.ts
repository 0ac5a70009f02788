/** Injection token for the CatalogModuleOptions given to CatalogModule.forRoot. */
export const CATALOG_MODULE_OPTIONS = Symbol('CATALOG_MODULE_OPTIONS');

export const DEFAULT_CATALOG_REFRESH_MS = 60_000;
