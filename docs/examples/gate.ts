// The seller's gate and paid route, shared by every framework example. Configured from the environment:
//   TOLLGATE_CHAIN      base | baseSepolia | localhost (default baseSepolia)
//   TOLLGATE_RPC_URL    JSON-RPC endpoint (default: the chain's public RPC)
//   SELLER_PRIVATE_KEY  the seller's key: receives the payments, pays the gas of settlements
//   TOLLGATE_SECRET     ≥ 32 bytes, the same on every instance
//   TOLLGATE_DB         SQLite file (default payments.db); PORT (default 3000)
import { chainPresets, getDeployment } from "tollgate";
import { createDiscoveryDocument, createPaymentGate, createSettlementService, type Payment } from "tollgate/server";
import { createSqliteStore } from "tollgate/server/sqlite";
import { type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const network = (process.env.TOLLGATE_CHAIN ?? "baseSepolia") as keyof typeof chainPresets;
const { chain, usdc } = chainPresets[network];
// The escrow's address is the same on every chain (CREATE2); on a chain of your own, pass yours.
const deployment = getDeployment({ chainId: chain.id });

export const gate = createPaymentGate({
  chain,
  transport: http(process.env.TOLLGATE_RPC_URL),
  escrow: deployment.contracts.TollgateEscrow.address,
  currency: usdc ?? deployment.contracts.MockStablecoin!.address,
  account: privateKeyToAccount(process.env.SELLER_PRIVATE_KEY as Hex),
  store: createSqliteStore({ path: process.env.TOLLGATE_DB ?? "payments.db" }),
  secret: process.env.TOLLGATE_SECRET!,
});

/** $0.01 per photo. */
export const photo = gate.session({ amount: "0.01", unitType: "photo", description: "One photo" });

export const port = Number(process.env.PORT ?? 3000);

/** Checks the configuration against the chain, releases what a crash left held, and starts settling. */
export async function startGate(): Promise<void> {
  await gate.ready();
  await gate.recover();
  createSettlementService({ gate, policy: { amount: 1_000_000n } }).start();
}

/** The OpenAPI 3.1 discovery document of the paid routes (mppx's `x-payment-info`), served at /openapi.json. */
export function discovery() {
  return createDiscoveryDocument({ info: { title: "Photo API" }, routes: [{ path: "/photo", method: "GET", route: photo, summary: "A photo" }] });
}

/** What the paid route serves. */
export function nextPhoto(payment: Payment) {
  // A session payment names its channel; a one-time payment (charge, x402) its payer.
  const paidBy = payment.method === "session" ? { channelId: payment.channelId } : { payer: payment.payer };
  return { title: "Salt flats", url: "https://example.com/photos/1.jpg", ...paidBy };
}
