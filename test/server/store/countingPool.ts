import pg from "pg";

/**
 * A real `pg.Pool` that counts the queries its connections send: each `client.query` is one round trip
 * (node-postgres sends one query at a time, whatever it holds), which is what the PostgreSQL store's
 * latency is made of.
 */
export function countingPool({ connectionString, max }: { connectionString: string; max: number }) {
  const pool = new pg.Pool({ connectionString, max });
  let count = 0;
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => (count++, query(...args));
  });
  return {
    pool,
    /** The round trips `fn` made, counting from zero (nothing else may use the pool meanwhile). */
    async roundTrips(fn: () => Promise<unknown>): Promise<number> {
      count = 0;
      await fn();
      return count;
    },
  };
}
