import pg from "pg";

/**
 * A real `pg.Pool` that counts the queries its connections send: each `client.query` is one round trip
 * (node-postgres sends one query at a time, whatever it holds), which is what the PostgreSQL store's
 * latency is made of.
 */
export function countingPool({ connectionString, max }: { connectionString: string; max: number }) {
  const pool = new pg.Pool({ connectionString, max });
  let count = 0;
  const texts: string[] = [];
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      count++;
      const [config] = args as [string | { text?: string }];
      texts.push(typeof config === "string" ? config : (config?.text ?? ""));
      return query(...args);
    };
  });
  return {
    pool,
    /** The round trips `fn` made, counting from zero (nothing else may use the pool meanwhile). */
    async roundTrips(fn: () => Promise<unknown>): Promise<number> {
      count = 0;
      await fn();
      return count;
    },
    /** The text of each query `fn` sent, in order (nothing else may use the pool meanwhile). */
    async queries(fn: () => Promise<unknown>): Promise<string[]> {
      texts.length = 0;
      await fn();
      return [...texts];
    },
  };
}
