import type { ClosePayload, SessionPayload } from "../../../session/payload.js";
import type { VerifiedVoucher } from "../../accounting.js";
import type { ChannelRecord } from "../../store/SessionStore.js";
import type { ChannelHolds } from "./createChannelHolds.js";
import { type ChannelRecords, forcedClosePending } from "./createChannelRecords.js";
import type { ChannelSigner, createFunding } from "./createFunding.js";

export type AdmitFundingParameters = {
  payload: Exclude<SessionPayload, ClosePayload>;
  /** The credential's `source` (the payer of a type-hash open). */
  source: string | undefined;
  /** The route's price of one unit and smallest relayed deposit, in base units. */
  amount: bigint;
  minRelayedDeposit: bigint;
  /** Whether a plain voucher on a remembered channel may skip reading the channel. */
  useStoredSigner: boolean;
  funding: ReturnType<typeof createFunding>;
  records: ChannelRecords;
  holds: ChannelHolds;
};

export type AdmitFundingReturnType = {
  /** The channel (not read when only its remembered signer is needed: a plain voucher on a stored channel). */
  record?: ChannelRecord;
  signer: ChannelSigner;
  /** The voucher to accept, if the credential carries one. */
  voucher?: VerifiedVoucher;
  /** Set when the funding step already verified `voucher`: whether a contract wallet signed it. */
  contractSigned?: boolean;
};

/** The credential's funding actions, in the order the draft verifies them; returns the channel and any voucher to accept. */
export async function admitFunding({ payload, source, amount, minRelayedDeposit, useStoredSigner, funding, records, holds }: AdmitFundingParameters): Promise<AdmitFundingReturnType> {
  switch (payload.action) {
    case "open": {
      const signature = payload.type === "hash" ? payload.signature : payload.voucherSignature;
      const voucher = { cumulativeAmount: payload.cumulativeAmount, signature };
      const funded =
        payload.type === "hash" ? await funding.openWithHash(payload, source, amount) : await funding.openWithAuthorization(payload, voucher, amount, minRelayedDeposit);
      return { ...funded, signer: funded.record, voucher };
    }
    case "topUp": {
      const known = await records.knownChannel(payload.channelId, amount);
      const { record } = payload.type === "hash" ? await funding.topUpWithHash(payload, known) : await funding.topUpWithAuthorization(payload, known, minRelayedDeposit);
      return { record, signer: record };
    }
    case "voucher": {
      const voucher = { cumulativeAmount: payload.cumulativeAmount, signature: payload.signature };
      // A deposit that opens the channel comes first: there is no channel to look up before it.
      if (payload.deposit?.action === "open") {
        const funded = await funding.openWithAuthorization({ ...payload.deposit, channelId: payload.channelId }, voucher, amount, minRelayedDeposit);
        return { ...funded, signer: funded.record, voucher };
      }
      const signer = useStoredSigner && payload.deposit === undefined ? holds.signer(payload.channelId) : undefined;
      if (signer) return { signer, voucher };
      const record = await records.knownChannel(payload.channelId, amount);
      if (record.closeRequestedAt !== 0n) throw forcedClosePending(record.channelId);
      if (payload.deposit === undefined) return { record, signer: record, voucher };
      const funded = await funding.topUpWithAuthorization({ ...payload.deposit, channelId: payload.channelId }, record, minRelayedDeposit, voucher);
      return { ...funded, signer: funded.record, voucher };
    }
  }
}
