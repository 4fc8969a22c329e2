/**
 * Schema of the SQLite store, one entry per version, applied in order on open and recorded in
 * `schema_migrations`. Never edit an entry that has shipped: add the next version instead.
 *
 * Amounts are TEXT holding decimal digits, not INTEGER: they are uint128 and SQLite integers stop at
 * 2^63. Columns are declared TEXT (not NUMERIC) on purpose, because NUMERIC affinity would turn a long
 * digit string into a lossy REAL.
 */
export const sqliteMigrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE channels (
        channel_id TEXT NOT NULL PRIMARY KEY,
        chain_id INTEGER NOT NULL,
        escrow TEXT NOT NULL,
        payer TEXT NOT NULL,
        payee TEXT NOT NULL,
        token TEXT NOT NULL,
        authorized_signer TEXT NOT NULL,
        deposit TEXT NOT NULL,
        settled_on_chain TEXT NOT NULL,
        accepted_cumulative TEXT NOT NULL,
        accepted_signature TEXT,
        spent TEXT NOT NULL,
        reserved TEXT NOT NULL,
        units TEXT NOT NULL,
        close_requested_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'closing', 'closed')),
        last_tx_hash TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX channels_status ON channels (status);
      CREATE INDEX channels_payer ON channels (payer);
      CREATE INDEX channels_payee ON channels (payee);

      CREATE TABLE charges (
        channel_id TEXT NOT NULL,
        key TEXT NOT NULL,
        payer TEXT NOT NULL,
        amount TEXT NOT NULL,
        units TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (channel_id, key)
      );
      -- Sweeping stale reservations: listCharges({ status, updatedBefore }).
      CREATE INDEX charges_status_updated ON charges (status, updated_at);
      -- usage(): committed charges by creation time.
      CREATE INDEX charges_committed_created ON charges (created_at) WHERE status = 'committed';
    `,
  },
  {
    version: 2,
    // The request an Idempotency-Key is bound to; null for generated keys and charges made before.
    sql: "ALTER TABLE charges ADD COLUMN fingerprint TEXT;",
  },
  {
    version: 3,
    // One-time payments (charge, x402): the key is the authorization's identity, so a nonce is recorded once.
    sql: `
      CREATE TABLE payments (
        key TEXT NOT NULL PRIMARY KEY,
        chain_id INTEGER NOT NULL,
        token TEXT NOT NULL,
        payer TEXT NOT NULL,
        nonce TEXT NOT NULL,
        payee TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('charge', 'x402')),
        amount TEXT NOT NULL,
        units TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'settled', 'released', 'failed')),
        tx_hash TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX payments_status_updated ON payments (status, updated_at);
    `,
  },
  {
    version: 4,
    // What each charge and payment paid for, for usage by route and unit type; null on older rows
    // (usage reports them as route "unknown", unit "request"). usage() also reads settled payments.
    sql: `
      ALTER TABLE charges ADD COLUMN route TEXT;
      ALTER TABLE charges ADD COLUMN unit_type TEXT;
      ALTER TABLE payments ADD COLUMN route TEXT;
      ALTER TABLE payments ADD COLUMN unit_type TEXT;
      CREATE INDEX payments_settled_created ON payments (created_at) WHERE status = 'settled';
      CREATE INDEX charges_committed_payer ON charges (payer, created_at) WHERE status = 'committed';
      CREATE INDEX payments_settled_payer ON payments (payer, created_at) WHERE status = 'settled';
    `,
  },
  {
    version: 5,
    // The charge draft's other credential types (the nonce column holds each one's replay token) and
    // `accepted` (served, settlement deferred). SQLite cannot alter a CHECK, so the table is rebuilt.
    sql: `
      CREATE TABLE payments_v5 (
        key TEXT NOT NULL PRIMARY KEY,
        chain_id INTEGER NOT NULL,
        token TEXT NOT NULL,
        payer TEXT NOT NULL,
        nonce TEXT NOT NULL,
        payee TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('charge', 'x402')),
        amount TEXT NOT NULL,
        units TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'settled', 'released', 'failed')),
        tx_hash TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        route TEXT,
        unit_type TEXT,
        credential TEXT CHECK (credential IN ('authorization', 'permit2', 'transaction', 'hash'))
      );
      INSERT INTO payments_v5 (key, chain_id, token, payer, nonce, payee, method, amount, units, status, tx_hash, created_at, updated_at, route, unit_type)
        SELECT key, chain_id, token, payer, nonce, payee, method, amount, units, status, tx_hash, created_at, updated_at, route, unit_type FROM payments;
      DROP TABLE payments;
      ALTER TABLE payments_v5 RENAME TO payments;
      CREATE INDEX payments_status_updated ON payments (status, updated_at);
      CREATE INDEX payments_settled_created ON payments (created_at) WHERE status = 'settled';
      CREATE INDEX payments_settled_payer ON payments (payer, created_at) WHERE status = 'settled';
    `,
  },
  {
    version: 6,
    // What settles an `accepted` (deferred) EIP-3009 payment later: its window and signature, as JSON.
    sql: `ALTER TABLE payments ADD COLUMN signed_authorization TEXT;`,
  },
  {
    version: 7,
    // Only reservations are swept by status and age (recover), and most charges are written committed at
    // once (admission in process): indexing every charge by status cost each paid request an index write.
    sql: `
      DROP INDEX charges_status_updated;
      CREATE INDEX charges_reserved_updated ON charges (updated_at) WHERE status = 'reserved';
    `,
  },
];
