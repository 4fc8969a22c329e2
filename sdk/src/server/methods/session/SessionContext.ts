import type { Address } from "viem";
import type { GateContext } from "../../core/GateMethod.js";
import type { RelayRateLimit } from "../../createRelayLimiter.js";
import type { ChannelRecord } from "../../store/SessionStore.js";

/** The session method's options, beside what the core shares (see `createSessionMethod`). */
export type SessionMethodParameters = {
  /** Pay the gas of clients' opens and top-ups (EIP-3009 authorizations); defaults to false. */
  feePayer?: boolean;
  /** With `feePayer`: transactions relayed per payer and per channel (a token bucket); defaults to 4 at once, then one per 10 s. */
  relayRateLimit?: RelayRateLimit;
  /**
   * Milliseconds to look for the receipt of a client's own open or top-up (type hash) before answering
   * 402 with Retry-After; defaults to 3 000.
   */
  receiptTimeout?: number;
  /** `"reserve"` (default): hold the price, charge only when the response is `billable`. `"charge"`: charge before the handler. */
  chargeMode?: "reserve" | "charge";
  /** Seconds an Idempotency-Key stays bound to the request it paid for; defaults to 86 400 (a day). */
  idempotencyKeyTtl?: number;
  /**
   * Most service (base units) delivered on a channel whose vouchers a contract wallet signs (ERC-1271)
   * before settlement catches up; beyond it requests get 429 `settlement-pending`. Such a wallet can
   * revoke its signatures. Defaults to 1 000 000 (1.00 of a 6-decimal stablecoin); null: no limit.
   */
  contractSignerCredit?: bigint | null;
};

/** What every part of the session method shares: the core's context, the escrow, the options, defaults applied. */
export type SessionContext = GateContext & {
  escrow: Address;
  feePayer: boolean;
  chargeMode: "reserve" | "charge";
  /** Milliseconds. */
  idempotencyKeyTtl: number;
  contractSignerCredit: bigint | null;
  /** Reports a change of a channel's accounting to the gate's `onChannelUpdate` listeners. */
  publish(channel: ChannelRecord): void;
};
