import { type Address, type Hex, isAddressEqual, zeroAddress } from "viem";
import { computeOpenNonce } from "../../../authorization/computeOpenNonce.js";
import { computeTopUpNonce } from "../../../authorization/computeTopUpNonce.js";
import type { Channel } from "../../../channel/Channel.js";
import { computeChannelId } from "../../../channel/computeChannelId.js";
import { getChannel } from "../../../channel/getChannel.js";
import { parseAddress } from "../../../encoding/parseAddress.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import type { Eip3009Authorization, OpenAuthorizationPayload, OpenHashPayload, TopUpAuthorizationPayload, TopUpHashPayload } from "../../../session/payload.js";
import { openChannelWithAuthorization } from "../../../transactions/openChannelWithAuthorization.js";
import { topUpChannelWithAuthorization } from "../../../transactions/topUpChannelWithAuthorization.js";
import type { VerifiedVoucher } from "../../accounting.js";
import { confirmFunding, type GateChain, onChain, readLiveChannel } from "../../chain.js";
import type { RelayLimiter } from "../../createRelayLimiter.js";
import type { ChannelRecord, SessionStore } from "../../store/SessionStore.js";

/** A channel's identity for voucher verification. */
export type ChannelSigner = Pick<ChannelRecord, "channelId" | "payer" | "authorizedSigner">;

/**
 * A funding step's outcome: the channel, and when the step verified the credential's voucher, whether a
 * contract wallet vouched for it (ERC-1271). Admission takes that check instead of making it again.
 */
export type Funded = { record: ChannelRecord; contractSigned?: boolean };

export type FundingParameters = {
  chain: GateChain;
  chainId: number;
  currency: Address;
  recipient: Address;
  store: SessionStore;
  /** Whether the gate submits (and pays the gas of) the payer's EIP-3009 authorizations. */
  feePayer: boolean;
  relayLimiter: RelayLimiter;
  /** Milliseconds a client's own funding transaction is looked up for before it is asked to retry. */
  receiptTimeout: number;
  now: () => number;
  /** The record of a channel first seen on-chain, once the gate may accept it (payee, token, one unit). */
  acceptable: (channelId: Hex, channel: Channel, price: bigint) => ChannelRecord;
  /** A canonical signature by the channel's signer (EOA, else ERC-1271); resolves with whether a contract wallet signed. */
  verifySignature: (channel: ChannelSigner, voucher: VerifiedVoucher) => Promise<boolean>;
};

/**
 * The gate's funding actions: opens and top-ups the client sent itself (type hash), confirmed from
 * their receipts, and those the gate relays and pays gas for (type authorization, with `feePayer`).
 * Everything a credential claims is checked before the chain is waited on or a transaction is sent.
 */
export function createFunding({ chain, chainId, currency, recipient, store, feePayer, relayLimiter, receiptTimeout, now, acceptable, verifySignature }: FundingParameters) {
  const { escrow } = chain;

  function assertEip3009(authorization: Eip3009Authorization, value: bigint, nonce: Hex) {
    const problem = !isAddressEqual(authorization.to, escrow)
      ? "authorization.to is not the escrow"
      : authorization.value !== value
        ? "authorization.value differs from the deposit"
        : authorization.nonce !== nonce
          ? "authorization.nonce is not the one derived from the channel parameters"
          : undefined;
    if (problem) throw new PaymentProblemError("malformed-credential", { detail: problem });
  }

  /** Every relayed transaction costs the server gas: it must be enabled and move at least `minDeposit`. */
  function assertRelayable(value: bigint, minDeposit: bigint) {
    if (!feePayer) {
      throw new PaymentProblemError("method-unsupported", { detail: "This server does not pay gas: open and top up with type hash" });
    }
    if (value < minDeposit) {
      throw new PaymentProblemError("verification-failed", { detail: `A deposit of at least ${minDeposit} is required when the server pays gas` });
    }
  }

  /** The voucher a funding credential carries, checked before the funding is submitted or awaited. */
  async function assertFundedVoucher(signer: ChannelSigner, voucher: VerifiedVoucher, deposit: bigint): Promise<boolean> {
    if (voucher.cumulativeAmount > deposit) {
      throw new PaymentProblemError("amount-exceeds-deposit", {
        detail: `The voucher's cumulative amount ${voucher.cumulativeAmount} exceeds the deposit ${deposit} this funding makes`,
        extensions: { channelId: signer.channelId, deposit: deposit.toString() },
      });
    }
    return verifySignature(signer, voucher);
  }

  /** Whether `channelId` is the id of the channel these open parameters create (the escrow derives it the same way). */
  const createsChannel = (channelId: Hex, payer: Address, salt: Hex, authorizedSigner: Address) =>
    channelId === computeChannelId({ chainId, escrow, payer, payee: recipient, token: currency, salt, authorizedSigner });

  /** Stores the deposit as the chain now has it, which also clears a close the top-up cancelled. */
  async function recordFunding(record: ChannelRecord): Promise<ChannelRecord> {
    const onChainChannel = await readLiveChannel(chain, record.channelId);
    return store.withChannel(record.channelId, async (tx) => {
      const current = tx.channel ?? record;
      const updated = { ...current, deposit: onChainChannel.deposit, closeRequestedAt: onChainChannel.closeRequestedAt, updatedAt: now() };
      await tx.putChannel(updated);
      return updated;
    });
  }

  /** Funding the server submits (feePayer): `openWithAuthorization`, then the same checks as a client's open. */
  async function openWithAuthorization(
    payload: Pick<OpenAuthorizationPayload, "channelId" | "authorization" | "signature" | "salt" | "authorizedSigner">,
    voucher: VerifiedVoucher,
    price: bigint,
    minDeposit: bigint,
  ): Promise<Funded & { contractSigned: boolean }> {
    const { authorization, salt, authorizedSigner = zeroAddress, channelId } = payload;
    assertRelayable(authorization.value, minDeposit);
    const payer = authorization.from;
    assertEip3009(authorization, authorization.value, computeOpenNonce({ from: payer, payee: recipient, token: currency, salt, authorizedSigner }));
    // A mismatch would spend gas on a channel the credential does not name.
    if (!createsChannel(channelId, payer, salt, authorizedSigner)) {
      throw new PaymentProblemError("malformed-credential", { detail: "channelId is not the id of the channel these open parameters create" });
    }
    const contractSigned = await assertFundedVoucher({ channelId, payer, authorizedSigner }, voucher, authorization.value);
    const existing = await store.getChannel(channelId);
    if (existing) return { record: existing, contractSigned };
    // Already open (this credential sent again after a failure or a crash): nothing to submit.
    const opened = await onChain("read the channel", () => getChannel({ client: chain.publicClient, escrow, channelId }));
    if (opened === null) {
      relayLimiter.take([payer.toLowerCase(), channelId]);
      await onChain("open the channel", () =>
        openChannelWithAuthorization({
          client: chain.walletClient,
          publicClient: chain.publicClient,
          timeout: chain.timeout,
          escrow,
          payee: recipient,
          token: currency,
          salt,
          authorizedSigner,
          authorization: { ...authorization, signature: payload.signature },
        }),
      );
    }
    return { record: acceptable(channelId, await readLiveChannel(chain, channelId), price), contractSigned };
  }

  /**
   * A top-up the server submits (feePayer), for the channel's own payer and at least `minDeposit`; a
   * voucher riding on it (the `deposit` extension) must be the channel's and fit the deposit it makes.
   */
  async function topUpWithAuthorization(
    payload: Pick<TopUpAuthorizationPayload, "channelId" | "authorization" | "signature" | "salt"> & { additionalDeposit?: bigint },
    record: ChannelRecord,
    minDeposit: bigint,
    voucher?: VerifiedVoucher,
  ): Promise<Funded> {
    const { channelId, authorization, salt, additionalDeposit = authorization.value } = payload;
    assertRelayable(authorization.value, minDeposit);
    assertEip3009(authorization, additionalDeposit, computeTopUpNonce({ channelId, additionalDeposit: authorization.value, from: authorization.from, topUpSalt: salt }));
    // Anyone may top up any channel on-chain, but the server pays gas only for the payer's own.
    if (!isAddressEqual(authorization.from, record.payer)) {
      throw new PaymentProblemError("verification-failed", { detail: "authorization.from is not the channel's payer", extensions: { channelId } });
    }
    const contractSigned = voucher && (await assertFundedVoucher(record, voucher, record.deposit + authorization.value));
    relayLimiter.take([record.payer.toLowerCase(), channelId]);
    await onChain("top up the channel", () =>
      topUpChannelWithAuthorization({
        client: chain.walletClient,
        publicClient: chain.publicClient,
        timeout: chain.timeout,
        escrow,
        channelId,
        topUpSalt: salt,
        authorization: { ...authorization, signature: payload.signature },
      }),
    );
    return { record: await recordFunding(record), ...(contractSigned === undefined ? {} : { contractSigned }) };
  }

  /**
   * An open the client sent itself. The channel id and the voucher are checked against the payer that
   * `source` names before the chain is asked anything, and the receipt is looked up briefly: a fake
   * hash costs a signature check and a few RPC calls.
   */
  async function openWithHash(payload: OpenHashPayload, source: string | undefined, price: bigint): Promise<Funded> {
    const { channelId, salt, authorizedSigner = zeroAddress } = payload;
    // Already stored: the voucher is left to admission, which checks it against the stored signer.
    const existing = await store.getChannel(channelId);
    if (existing) return { record: existing };
    if (source === undefined) throw new PaymentProblemError("malformed-credential", { detail: "source is required with type hash" });
    const payer = sourcePayer(source, chainId);
    if (payer === undefined || !createsChannel(channelId, payer, salt, authorizedSigner)) {
      throw new PaymentProblemError("verification-failed", { detail: "source does not name the payer of this channel", extensions: { channelId } });
    }
    const contractSigned = await verifySignature({ channelId, payer, authorizedSigner }, { cumulativeAmount: payload.cumulativeAmount, signature: payload.signature });
    await confirmFunding(chain, { hash: payload.hash, channelId, eventName: "ChannelOpened", timeout: receiptTimeout });
    return { record: acceptable(channelId, await readLiveChannel(chain, channelId), price), contractSigned };
  }

  /** TopUp verification (type hash): the transaction added exactly `additionalDeposit` to this channel; then the deposit is stored. */
  async function topUpWithHash(payload: TopUpHashPayload, record: ChannelRecord): Promise<Funded> {
    const { events } = await confirmFunding(chain, { hash: payload.hash, channelId: payload.channelId, eventName: "ChannelToppedUp", timeout: receiptTimeout });
    const added = events.reduce((sum, event) => sum + (event.args as { additionalDeposit: bigint }).additionalDeposit, 0n);
    if (added !== payload.additionalDeposit) {
      throw new PaymentProblemError("verification-failed", {
        detail: `Transaction ${payload.hash} added ${added} to the deposit, not the ${payload.additionalDeposit} this top-up claims`,
        extensions: { channelId: record.channelId },
      });
    }
    return { record: await recordFunding(record) };
  }

  return { openWithAuthorization, topUpWithAuthorization, openWithHash, topUpWithHash };
}

/** The payer a `did:pkh:eip155:<chainId>:<address>` source names on this chain, if it names one. */
function sourcePayer(source: string, chainId: number): Address | undefined {
  const match = /^did:pkh:eip155:(\d+):(0x[0-9a-fA-F]{40})$/.exec(source);
  return match && Number(match[1]) === chainId ? parseAddress(match[2]!.toLowerCase()) : undefined;
}
