/**
 * Schema of the PostgreSQL store, one entry per version, applied in order on start and recorded in
 * `schema_migrations`. `S` stands for the quoted schema name. Never edit an entry that has shipped:
 * add the next version instead.
 *
 * Amounts are NUMERIC(78,0), wide enough for any uint256 and summed exactly by SUM(). Text columns that
 * are compared or sorted use the "C" collation, so order is by byte like the other stores, whatever
 * the database's locale.
 */
export function postgresMigrations(S: string): readonly { version: number; sql: string }[] {
  return [
    {
      version: 1,
      sql: `
        CREATE TABLE ${S}.channels (
          channel_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
          chain_id BIGINT NOT NULL,
          escrow TEXT NOT NULL,
          payer TEXT COLLATE "C" NOT NULL,
          payee TEXT COLLATE "C" NOT NULL,
          token TEXT NOT NULL,
          authorized_signer TEXT NOT NULL,
          deposit NUMERIC(78, 0) NOT NULL,
          settled_on_chain NUMERIC(78, 0) NOT NULL,
          accepted_cumulative NUMERIC(78, 0) NOT NULL,
          accepted_signature TEXT,
          spent NUMERIC(78, 0) NOT NULL,
          reserved NUMERIC(78, 0) NOT NULL,
          units NUMERIC(78, 0) NOT NULL,
          close_requested_at NUMERIC(78, 0) NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('open', 'closing', 'closed')),
          last_tx_hash TEXT,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL
        );
        CREATE INDEX channels_status ON ${S}.channels (status);
        CREATE INDEX channels_payer ON ${S}.channels (payer);
        CREATE INDEX channels_payee ON ${S}.channels (payee);

        CREATE TABLE ${S}.charges (
          channel_id TEXT COLLATE "C" NOT NULL,
          key TEXT COLLATE "C" NOT NULL,
          payer TEXT COLLATE "C" NOT NULL,
          amount NUMERIC(78, 0) NOT NULL,
          units NUMERIC(78, 0) NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          PRIMARY KEY (channel_id, key)
        );
        -- Sweeping stale reservations: listCharges({ status, updatedBefore }).
        CREATE INDEX charges_status_updated ON ${S}.charges (status, updated_at);
        -- usage(): committed charges by creation time.
        CREATE INDEX charges_committed_created ON ${S}.charges (created_at) WHERE status = 'committed';
      `,
    },
    {
      version: 2,
      // The request an Idempotency-Key is bound to; null for generated keys and charges made before.
      sql: `ALTER TABLE ${S}.charges ADD COLUMN fingerprint TEXT;`,
    },
    {
      version: 3,
      // One-time payments (charge, x402): the key is the authorization's identity, so a nonce is recorded once.
      sql: `
        CREATE TABLE ${S}.payments (
          key TEXT NOT NULL PRIMARY KEY,
          chain_id BIGINT NOT NULL,
          token TEXT NOT NULL,
          payer TEXT NOT NULL,
          nonce TEXT NOT NULL,
          payee TEXT NOT NULL,
          method TEXT NOT NULL CHECK (method IN ('charge', 'x402')),
          amount NUMERIC(78, 0) NOT NULL,
          units NUMERIC(78, 0) NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('pending', 'settled', 'released', 'failed')),
          tx_hash TEXT,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL
        );
        CREATE INDEX payments_status_updated ON ${S}.payments (status, updated_at);
      `,
    },
    {
      version: 4,
      // What each charge and payment paid for, for usage by route and unit type; null on older rows
      // (usage reports them as route "unknown", unit "request"). usage() also reads settled payments.
      sql: `
        ALTER TABLE ${S}.charges ADD COLUMN route TEXT COLLATE "C", ADD COLUMN unit_type TEXT COLLATE "C";
        ALTER TABLE ${S}.payments ADD COLUMN route TEXT COLLATE "C", ADD COLUMN unit_type TEXT COLLATE "C";
        CREATE INDEX payments_settled_created ON ${S}.payments (created_at) WHERE status = 'settled';
        CREATE INDEX charges_committed_payer ON ${S}.charges (payer, created_at) WHERE status = 'committed';
        CREATE INDEX payments_settled_payer ON ${S}.payments (payer, created_at) WHERE status = 'settled';
      `,
    },
    {
      version: 5,
      // The charge draft's other credential types (the nonce column holds each one's replay token) and
      // `accepted` (served, settlement deferred to the settlement service).
      sql: `
        ALTER TABLE ${S}.payments
          DROP CONSTRAINT payments_status_check,
          ADD CONSTRAINT payments_status_check CHECK (status IN ('pending', 'accepted', 'settled', 'released', 'failed')),
          ADD COLUMN credential TEXT COLLATE "C" CHECK (credential IN ('authorization', 'permit2', 'transaction', 'hash'));
      `,
    },
    {
      version: 6,
      // What settles an accepted (deferred) EIP-3009 payment later: its window and signature, as JSON.
      sql: `ALTER TABLE ${S}.payments ADD COLUMN signed_authorization TEXT;`,
    },
    {
      version: 7,
      // Only reservations are swept by status and age (recover), and most charges are written committed
      // at once (admission in process): indexing every charge by status cost each paid request an index write.
      sql: `
        DROP INDEX ${S}.charges_status_updated;
        CREATE INDEX charges_reserved_updated ON ${S}.charges (updated_at) WHERE status = 'reserved';
      `,
    },
  ];
}
