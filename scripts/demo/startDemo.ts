// Everything the demo runs, started in one call: the local chain with the contracts, funded test
// accounts, the seller's gate (session, charge, x402) with its SQLite store and settlement service, and the gallery.
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { http, type LocalAccount } from "viem";
import { createPaymentGate, createSettlementService, type PaymentGate } from "../../sdk/src/server/index.js";
import { createSqliteStore } from "../../sdk/src/server/sqlite.js";
import { startLocalChain, type LocalChain } from "../localChain.js";
import { type Gallery, PHOTO_PATH, startGallery } from "./gallery.js";

export const USDC = 1_000_000n;
/**
 * Well-known local test accounts (Hardhat's default mnemonic): 1 sells; 2 buys from the terminal; 3 is the
 * page's demo wallet, unlocked in the node (the page never gets its key).
 */
export const SELLER = 1;
export const BUYER = 2;
export const BROWSER_BUYER = 3;

export type Demo = {
  chain: LocalChain;
  gate: PaymentGate;
  gallery: Gallery;
  seller: LocalAccount;
  /** The paid photo endpoint. */
  photoUrl: string;
  /** The seller's SQLite database, in a temporary directory that stop() removes. */
  database: string;
  /** Stops everything and removes the temporary directory; later calls return the first call's promise. */
  stop(): Promise<void>;
};

export type StartDemoParameters = {
  /** Test accounts that get 1,000 mock USDC each. */
  fund: number[];
  photos?: "local" | "picsum";
  /** Called before each slow step, for progress output. */
  onStep?: (step: string) => void;
};

export async function startDemo({ fund, photos = "local", onStep = () => {} }: StartDemoParameters): Promise<Demo> {
  onStep("Starting a local chain (hardhat node on 127.0.0.1) and deploying the escrow and a mock USDC…");
  const chain = await startLocalChain();
  const seller = chain.account(SELLER);
  for (const index of fund) await chain.mint(chain.account(index).address, 1_000n * USDC);

  const directory = mkdtempSync(join(tmpdir(), "tollgate-demo-"));
  const database = join(directory, "gallery.db");
  const store = createSqliteStore({ path: database });
  // No `methods`: every method the currency supports, so beside the session MPP charge and x402 `exact`
  // (the mock USDC implements EIP-3009).
  const gate = createPaymentGate({
    chain: chain.chain,
    transport: http(chain.rpcUrl),
    escrow: chain.escrow,
    currency: chain.token,
    account: seller,
    store,
    secret: crypto.randomUUID() + crypto.randomUUID(),
  });
  await gate.ready();
  const settlement = createSettlementService({ gate, policy: { amount: 1n * USDC } });
  settlement.start();
  const gallery = await startGallery({
    gate,
    rpcUrl: chain.rpcUrl,
    escrow: chain.escrow,
    currency: chain.token,
    wallet: chain.account(BROWSER_BUYER).address,
    photos,
  });
  let stopped: Promise<void> | undefined;
  return {
    chain,
    gate,
    gallery,
    seller,
    photoUrl: `${gallery.url}${PHOTO_PATH}`,
    database,
    stop() {
      stopped ??= (async () => {
        try {
          await settlement.stop();
          await gallery.close();
          await store.close();
          await chain.stop();
        } finally {
          await rm(directory, { recursive: true, force: true });
        }
      })();
      return stopped;
    },
  };
}
