import { PaymentProblemError } from "../../../protocol/problems.js";
import type { ChannelRecord } from "../../store/SessionStore.js";

/** Default `contractSignerCredit`: 1.00 of a 6-decimal stablecoin. */
export const DEFAULT_CONTRACT_SIGNER_CREDIT = 1_000_000n;

export type AssertContractSignerCreditParameters = {
  /** The channel as stored, before this request's voucher is accepted. */
  channel: ChannelRecord;
  /** What this request costs. */
  cost: bigint;
  /** Most service (base units) delivered or held but not settled; null for no limit. */
  credit: bigint | null;
};

/**
 * Refuses a request on a channel whose vouchers are signed by a contract wallet (ERC-1271) once the
 * service not yet settled on-chain would pass `credit`: such a wallet can revoke its signatures, and
 * what was delivered against them is then lost. One request is always served from a settled channel,
 * and one that brings `spent` up to the voucher held, which lets settlement catch up.
 */
export function assertContractSignerCredit({ channel, cost, credit }: AssertContractSignerCreditParameters): void {
  if (credit === null || cost === 0n) return;
  const held = channel.spent + channel.reserved;
  const unsettled = held - channel.settledOnChain;
  if (unsettled <= 0n || unsettled + cost <= credit || held + cost === channel.acceptedCumulative) return;
  throw new PaymentProblemError("settlement-pending", {
    detail: `${unsettled} of service on this channel awaits settlement (a contract wallet signs its vouchers; the credit is ${credit}): retry once it is settled`,
    extensions: { channelId: channel.channelId },
  });
}
