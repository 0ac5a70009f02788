import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';

type Column = EntityMetadata['columns'][number];

/** Texts of multi-row inserts are kept up to this many rows; longer ones are rare and written each time. */
const MAX_CACHED_ROWS = 64;

/**
 * The event store's hot statements over one entity, written from its TypeORM metadata (table and
 * column names, transformers) with every value bound as a parameter. TypeORM's query builder writes
 * numbers into the SQL text on SQLite, so each event's statements were new to better-sqlite3 and
 * prepared again (most of an event's CPU, measured); a text per shape here is prepared once.
 */
export class EntityStatements<T extends ObjectLiteral> {
  private readonly table: string;
  private readonly columns: readonly Column[];
  private readonly byProperty: ReadonlyMap<string, Column>;
  private readonly texts = new Map<string, string>();

  constructor(
    private readonly ds: DataSource,
    target: EntityTarget<T>,
  ) {
    const metadata = ds.getMetadata(target);
    // `schema.table` on PostgreSQL with a schema: each part quoted, as the query builder does.
    this.table = metadata.tablePath
      .split('.')
      .map((part) => ds.driver.escape(part))
      .join('.');
    this.columns = metadata.columns;
    this.byProperty = new Map(metadata.columns.map((c) => [c.propertyName, c]));
  }

  /** INSERT ... ON CONFLICT DO NOTHING on the primary key: how many of `rows` were new. */
  async insertIgnoringDuplicates(runner: QueryRunner, rows: readonly T[]): Promise<number> {
    if (rows.length === 0) return 0;
    const build = () => `${this.insertText(rows.length)} ON CONFLICT DO NOTHING`;
    const sql = rows.length <= MAX_CACHED_ROWS ? this.text(`insert-ignore:${rows.length}`, build) : build();
    return this.affected(
      runner,
      sql,
      rows.flatMap((row) => this.columns.map((c) => this.value(c, row))),
    );
  }

  async insert(runner: QueryRunner, row: T): Promise<void> {
    await runner.query(
      this.text('insert:1', () => this.insertText(1)),
      this.columns.map((c) => this.value(c, row)),
    );
  }

  /** The row whose `where` properties match; locked until the transaction ends when `forUpdate` (PostgreSQL). */
  async findOne(
    runner: QueryRunner,
    where: Partial<T>,
    options: { forUpdate?: boolean } = {},
  ): Promise<T | null> {
    const keys = Object.keys(where);
    const lock = options.forUpdate === true && this.ds.options.type === 'postgres';
    const sql = this.text(`select:${keys.join(',')}:${lock}`, () => {
      const list = this.columns.map((c) => this.name(c)).join(', ');
      return `SELECT ${list} FROM ${this.table} WHERE ${this.conditions(keys, 0)}${lock ? ' FOR UPDATE' : ''}`;
    });
    const rows = (await runner.query(
      sql,
      keys.map((k) => this.value(this.column(k), where)),
    )) as ObjectLiteral[];
    if (rows.length === 0) return null;
    const raw = rows[0];
    const entity: Record<string, unknown> = {};
    for (const c of this.columns) {
      entity[c.propertyName] = this.ds.driver.prepareHydratedValue(raw[c.databaseName], c) as unknown;
    }
    return entity as T;
  }

  /** UPDATE ... SET `set` WHERE `where`: how many rows it changed. */
  async update(runner: QueryRunner, where: Partial<T>, set: Partial<T>): Promise<number> {
    const keys = Object.keys(where);
    const fields = Object.keys(set);
    const sql = this.text(`update:${fields.join(',')}:${keys.join(',')}`, () => {
      const assignments = fields.map((f, i) => `${this.name(this.column(f))} = ${this.parameter(i)}`);
      return `UPDATE ${this.table} SET ${assignments.join(', ')} WHERE ${this.conditions(keys, fields.length)}`;
    });
    const parameters = [
      ...fields.map((f) => this.value(this.column(f), set)),
      ...keys.map((k) => this.value(this.column(k), where)),
    ];
    return this.affected(runner, sql, parameters);
  }

  private insertText(rowCount: number): string {
    const names = this.columns.map((c) => this.name(c)).join(', ');
    const width = this.columns.length;
    const tuples = Array.from(
      { length: rowCount },
      (_, r) => `(${this.columns.map((_c, i) => this.parameter(r * width + i)).join(', ')})`,
    );
    return `INSERT INTO ${this.table}(${names}) VALUES ${tuples.join(', ')}`;
  }

  private conditions(keys: readonly string[], firstIndex: number): string {
    return keys
      .map((k, i) => `${this.name(this.column(k))} = ${this.parameter(firstIndex + i)}`)
      .join(' AND ');
  }

  private async affected(runner: QueryRunner, sql: string, parameters: unknown[]): Promise<number> {
    const result = (await runner.query(sql, parameters, true)) as { affected?: number };
    return result.affected ?? 0;
  }

  private value(column: Column, row: ObjectLiteral): unknown {
    const value: unknown = this.ds.driver.preparePersistentValue(row[column.propertyName], column);
    if (value !== undefined) return value;
    if (column.isNullable) return null;
    throw new Error(`${this.table}: no value for column ${column.databaseName}`);
  }

  private column(property: string): Column {
    const column = this.byProperty.get(property);
    if (column === undefined) throw new Error(`${this.table} has no column for property ${property}`);
    return column;
  }

  private name(column: Column): string {
    return this.ds.driver.escape(column.databaseName);
  }

  private parameter(index: number): string {
    return this.ds.driver.createParameter(`p${index}`, index);
  }

  private text(key: string, build: () => string): string {
    let sql = this.texts.get(key);
    if (sql === undefined) {
      sql = build();
      this.texts.set(key, sql);
    }
    return sql;
  }
}
