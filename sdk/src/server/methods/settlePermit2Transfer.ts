import type { Address, Hex } from "viem";
import type { ChargePermit2Payload } from "../../protocol/permit2.js";
import { permitWitnessTransferFrom } from "../../transactions/permitWitnessTransferFrom.js";
import type { GateContext } from "../core/GateMethod.js";
import { sendFromSeller } from "./settleTransferAuthorization.js";

export type SettlePermit2TransferParameters = {
  context: GateContext;
  permit2: Address;
  owner: Address;
  payload: ChargePermit2Payload;
};

/** Submits a verified Permit2 permit from the seller's account (after its earlier sends) and resolves with its mined transaction. */
export async function settlePermit2Transfer({ context, permit2, owner, payload }: SettlePermit2TransferParameters): Promise<Hex> {
  const { chain } = context;
  const sent = await sendFromSeller(chain.walletClient, () =>
    permitWitnessTransferFrom({ client: chain.walletClient, publicClient: chain.publicClient, timeout: chain.timeout, permit2, owner, payload }),
  );
  return sent.hash;
}
