import type { Address, Hex } from "viem";
import { simulateContract } from "viem/actions";
import { ContractRevertedError } from "../../errors/ContractRevertedError.js";
import { RpcError } from "../../errors/RpcError.js";
import { tollgateEscrowAbi } from "../../generated/tollgateEscrowAbi.js";
import { isRevert, revertedError } from "../../transactions/revertedError.js";
import { settleChannelBatch, type VoucherClaim } from "../../transactions/settleChannelBatch.js";
import { getVoucherSigner } from "../../voucher/getVoucherSigner.js";
import { verifyVoucher } from "../../voucher/verifyVoucher.js";
import { onChain } from "../chain.js";
import type { PaymentGate } from "../createPaymentGate.js";
import type { ChannelRecord } from "../store/SessionStore.js";
import type { SettlementEvent } from "./SettlementEvent.js";

/** Reverts that say a claim itself is bad (not the caller, not a race the chain resolves): it will never settle. */
const UNSETTLEABLE = new Set(["InvalidSignature", "ChannelNotFound", "AmountExceedsDeposit", "TokenMismatch"]);

export type SettleClaimsParameters = {
  gate: PaymentGate;
  channels: readonly ChannelRecord[];
  /** Channels per settleBatch transaction. */
  batchSize: number;
  /** Re-reads a channel whose claim reverted (settled or finalized elsewhere); resolves with the stored record. */
  reconcile: (channelId: Hex) => Promise<ChannelRecord | undefined>;
  onEvent: (event: SettlementEvent) => void;
};

/**
 * Settles the accepted vouchers of `channels` in settleBatch transactions of one token each. Vouchers of
 * contract wallets are asked again first (a wallet can revoke a signature it gave). A batch that would
 * revert is split: each claim is simulated on its own, a claim the chain has moved past is reconciled,
 * one that can never settle is rejected, and the rest settle in the same run.
 */
export async function settleClaims({ gate, channels, batchSize, reconcile, onEvent }: SettleClaimsParameters): Promise<void> {
  const report = (action: string) => (error: unknown) => onEvent({ type: "error", action, error });
  const claimable: ChannelRecord[] = [];
  for (const channel of channels) {
    try {
      const reason = await recheckContractSignature(gate, channel);
      if (reason === undefined) claimable.push(channel);
      else await rejectClaim(gate, channel, reason, onEvent);
    } catch (error) {
      // The wallet could not be asked: the claim waits for the next run.
      report("verify")(error);
    }
  }
  // settleBatch redeems one token per transaction.
  const byToken = new Map<Address, ChannelRecord[]>();
  for (const channel of claimable) {
    const group = byToken.get(channel.token);
    if (group) group.push(channel);
    else byToken.set(channel.token, [channel]);
  }
  for (const [token, ofToken] of byToken) {
    for (let start = 0; start < ofToken.length; start += batchSize) {
      const batch = ofToken.slice(start, start + batchSize);
      try {
        await settleBatch(gate, token, batch, onEvent);
      } catch (error) {
        if (!(error instanceof ContractRevertedError)) {
          report("settle")(error);
          continue;
        }
        const passing = await splitBatch(gate, token, batch, reconcile, onEvent).catch((splitError) => {
          report("settle")(splitError);
          return [];
        });
        if (passing.length > 0) await settleBatch(gate, token, passing, onEvent).catch(report("settle"));
      }
    }
  }
}

/**
 * Whether the held voucher stands only as long as a contract wallet says so (ERC-1271): the escrow
 * checks ECDSA first, and an ECDSA signature by the signer can never be revoked. No RPC.
 */
export async function isRevocable(channel: ChannelRecord): Promise<boolean> {
  return !(await verifyVoucher(voucherOf(channel)));
}

/** Why a contract wallet's voucher would no longer settle, or undefined when it would. */
async function recheckContractSignature(gate: PaymentGate, channel: ChannelRecord): Promise<string | undefined> {
  if (!(await isRevocable(channel))) return undefined;
  const valid = await onChain("ask the signer's wallet", () => verifyVoucher({ ...voucherOf(channel), client: gate.chain.publicClient }));
  return valid ? undefined : `The voucher is not signed by ${getVoucherSigner({ channel })}, whose wallet (ERC-1271) does not accept it either`;
}

function voucherOf(channel: ChannelRecord) {
  const { chainId, escrow, channelId, acceptedCumulative: cumulativeAmount, acceptedSignature } = channel;
  return { chainId, escrow, channelId, cumulativeAmount, signature: acceptedSignature!, signer: getVoucherSigner({ channel }) };
}

async function settleBatch(gate: PaymentGate, token: Address, batch: readonly ChannelRecord[], onEvent: (event: SettlementEvent) => void) {
  const { chain, store } = gate;
  const { hash, amount } = await settleChannelBatch({
    client: chain.walletClient,
    publicClient: chain.publicClient,
    timeout: chain.timeout,
    escrow: chain.escrow,
    token,
    claims: batch.map(claimOf),
  });
  for (const settled of batch) {
    const updated = await store.withChannel(settled.channelId, async (tx) => {
      const current = tx.channel ?? settled;
      const settledOnChain = settled.acceptedCumulative > current.settledOnChain ? settled.acceptedCumulative : current.settledOnChain;
      const next = { ...current, settledOnChain, lastTxHash: hash, updatedAt: gate.now() };
      await tx.putChannel(next);
      return next;
    });
    gate.publish(updated);
  }
  onEvent({ type: "settled", channelIds: batch.map((channel) => channel.channelId), amount, txHash: hash });
}

/** The claims of `batch` that settle on their own; the others are reconciled, and rejected when they never will. */
async function splitBatch(
  gate: PaymentGate,
  token: Address,
  batch: readonly ChannelRecord[],
  reconcile: (channelId: Hex) => Promise<ChannelRecord | undefined>,
  onEvent: (event: SettlementEvent) => void,
): Promise<ChannelRecord[]> {
  const passing: ChannelRecord[] = [];
  for (const channel of batch) {
    const revert = await simulateClaim(gate, token, claimOf(channel));
    if (revert === undefined) {
      passing.push(channel);
      continue;
    }
    const current = await reconcile(channel.channelId);
    const stillClaimable = current !== undefined && current.status === "open" && current.acceptedCumulative > current.settledOnChain;
    if (stillClaimable && revert.errorName !== undefined && UNSETTLEABLE.has(revert.errorName)) {
      await rejectClaim(gate, current, `The escrow would revert with ${revert.errorName}`, onEvent);
    } else if (stillClaimable) {
      onEvent({ type: "error", action: "settle", error: revert });
    }
  }
  return passing;
}

async function simulateClaim(gate: PaymentGate, token: Address, claim: VoucherClaim): Promise<ContractRevertedError | undefined> {
  const { chain } = gate;
  try {
    await simulateContract(chain.publicClient, {
      account: chain.walletClient.account,
      address: chain.escrow,
      abi: tollgateEscrowAbi,
      functionName: "settleBatch",
      args: [token, [claim]],
    });
    return undefined;
  } catch (error) {
    if (isRevert(error)) return revertedError({ error });
    throw new RpcError("Could not simulate the claim", { cause: error });
  }
}

/**
 * Sets aside a channel whose voucher cannot be settled: it is recorded as `closed`, which every gate
 * sharing the store refuses (410 channel-finalized), so no more service is given against a voucher
 * the seller cannot redeem. The on-chain channel stays as it is; the payer recovers the deposit with a
 * forced close.
 */
async function rejectClaim(gate: PaymentGate, channel: ChannelRecord, reason: string, onEvent: (event: SettlementEvent) => void) {
  const rejected = await gate.store.withChannel(channel.channelId, async (tx) => {
    const current = tx.channel;
    if (!current || current.status !== "open") return undefined;
    const next: ChannelRecord = { ...current, status: "closed", updatedAt: gate.now() };
    await tx.putChannel(next);
    return next;
  });
  if (!rejected) return;
  gate.publish(rejected);
  onEvent({ type: "claim-rejected", channelId: channel.channelId, reason });
}

function claimOf(channel: ChannelRecord): VoucherClaim {
  return { channelId: channel.channelId, cumulativeAmount: channel.acceptedCumulative, signature: channel.acceptedSignature! };
}
