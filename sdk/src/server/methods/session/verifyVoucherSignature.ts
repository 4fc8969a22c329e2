import { zeroAddress } from "viem";
import { isSignedBy } from "../../../crypto/isSignedBy.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { recoverVoucherSigner } from "../../../voucher/recoverVoucherSigner.js";
import { signatureBytes } from "../../../voucher/signatureBytes.js";
import { verifyVoucher } from "../../../voucher/verifyVoucher.js";
import { voucherDigestBytes } from "../../../voucher/voucherDigestBytes.js";
import type { VerifiedVoucher } from "../../accounting.js";
import { createCodeCache, onChain } from "../../chain.js";
import type { ChannelSigner } from "./createFunding.js";
import { createVerifiedVouchers } from "./createVerifiedVouchers.js";
import type { SessionContext } from "./SessionContext.js";

export type VerifyVoucherSignature = (channel: ChannelSigner, voucher: VerifiedVoucher) => Promise<boolean>;

/**
 * Steps 3–5 of the draft's voucher verification: a canonical signature by the channel's signer (EOA,
 * else ERC-1271). The returned check resolves with whether a contract wallet vouched for it; an exact
 * replay of a channel's last EOA-verified voucher is answered from memory (see createVerifiedVouchers).
 */
export function createVoucherSignatureCheck({ chain, chainId }: Pick<SessionContext, "chain" | "chainId">): VerifyVoucherSignature {
  const hasCode = createCodeCache(chain.publicClient);
  const verified = createVerifiedVouchers();
  return async (channel, voucher) => {
    const signer = channel.authorizedSigner === zeroAddress ? channel.payer : channel.authorizedSigner;
    if (verified.has(channel.channelId, signer, voucher)) return false;
    const fields = { chainId, escrow: chain.escrow, channelId: channel.channelId, cumulativeAmount: voucher.cumulativeAmount };
    // The usual case, an EOA signature by the expected signer, costs one native recovery and a compare
    // with the signer's remembered public key (no address derivation, no checksumming).
    const bytes = signatureBytes(voucher.signature);
    if (bytes !== null && isSignedBy(voucherDigestBytes(fields), bytes, signer)) {
      verified.remember(channel.channelId, signer, voucher);
      return false;
    }
    const recovered = recoverVoucherSigner({ ...fields, signature: voucher.signature });
    const valid =
      (await hasCode(signer)) &&
      (await onChain("ask the signer's wallet", () => verifyVoucher({ ...fields, signature: voucher.signature, signer, client: chain.publicClient })));
    if (!valid) {
      throw new PaymentProblemError(recovered === null ? "invalid-signature" : "signer-mismatch", {
        detail: recovered === null ? "The voucher signature is not a valid canonical signature" : "The voucher is not signed by the channel's signer",
        extensions: { channelId: channel.channelId },
      });
    }
    return true;
  };
}
