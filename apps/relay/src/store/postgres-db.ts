/**
 * The PostgreSQL store's connection layer: a pool whose DML runs as named statements (prepared
 * once per connection), transactions retried on deadlock or serialization failure, and the
 * helpers every part of the store (`postgres-*.ts`) shares.
 * @module
 */
import pg from 'pg';

/** A connection that runs DML as named (prepared once per connection) statements. */
export interface Db {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

const statementNames = new Map<string, string>();
/** Parsing and planning dominate these small queries: prepare each once per connection. */
function prepared(client: pg.PoolClient | pg.Pool): Db {
  return {
    query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      if (values === undefined || !/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.test(text)) {
        return client.query<R>(text, values);
      }
      let name = statementNames.get(text);
      if (name === undefined) {
        name = `parley_${statementNames.size + 1}`;
        statementNames.set(text, name);
      }
      return client.query<R>({ name, text, values });
    },
  };
}

const INT8_OID = 20;
/** BIGINT columns hold millisecond timestamps and `seq`: well inside Number's safe range. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

const RETRYABLE = new Set(['40001', '40P01']);

export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === '23505';
}

/** The pool, once closed refusing new work. */
export class PgDatabase {
  readonly pool: pg.Pool;
  #closed = false;

  constructor(url: string, maxConnections: number) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: maxConnections,
      types,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client losing its server must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` in a transaction; retried (a few times) on deadlock or serialization failure. */
  async tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('the store is closed');
    for (let attempt = 1; ; attempt++) {
      const db = await this.pool.connect();
      let broken = false;
      try {
        await db.query('BEGIN');
        const result = await fn(prepared(db));
        await db.query('COMMIT');
        return result;
      } catch (err) {
        await db.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code) && attempt < 5) continue;
        throw err;
      } finally {
        db.release(broken);
      }
    }
  }

  /** One statement outside a transaction (autocommit). */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    if (this.#closed) throw new Error('the store is closed');
    return (await prepared(this.pool).query<R>(text, values)).rows;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}
