import { bytesToHex, type Hex, zeroAddress } from "viem";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import { signOpenAuthorization } from "../authorization/signOpenAuthorization.js";
import { getTokenDomain } from "../authorization/getTokenDomain.js";
import { computeChannelId } from "../channel/computeChannelId.js";
import { assertEscrowDeployed } from "../deployments/assertEscrowDeployed.js";
import { PaymentCapError } from "../errors/PaymentCapError.js";
import { TransactionOutcomeUnknownError } from "../errors/TransactionOutcomeUnknownError.js";
import type { SessionPayload } from "../session/payload.js";
import { openChannel } from "../transactions/openChannel.js";
import { fundsByAuthorization } from "./fundsByAuthorization.js";
import type { ClientChannel } from "./ClientChannel.js";
import type { PayingContext } from "./PayingContext.js";
import type { Offer } from "./readOffer.js";
import { signChannelVoucher } from "./signChannelVoucher.js";

export type OpenPaymentChannelParameters = { context: PayingContext; offer: Offer; url: string };

export type OpenPaymentChannelReturnType = { channel: ClientChannel; payload: SessionPayload; source?: string };

/** The deposit a new channel gets: the server's suggestion (one unit without one), capped at maxDeposit. */
export function openingDeposit({ request, caps }: Offer): bigint {
  const wanted = request.suggestedDeposit ?? request.amount;
  return wanted < caps.maxDeposit ? wanted : caps.maxDeposit;
}

export function randomSalt(): Hex {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Opens a channel for an offer: the server's suggested deposit, capped, paying the first unit at once.
 * With session keys the channel names a fresh key as its `authorizedSigner`: the wallet signs only the
 * funding (an authorization, or approve and open), the key every voucher. The deposit is checked against `maxTotalDeposit` and stored (with the first voucher) before anything
 * is sent, so concurrent opens cannot together escrow more than the cap.
 */
export async function openPaymentChannel({ context, offer, url }: OpenPaymentChannelParameters): Promise<OpenPaymentChannelReturnType> {
  const { account, chain, store, limits, save } = context;
  const { request } = offer;
  const escrow = request.methodDetails.escrowContract;
  const token = request.currency;
  const price = request.amount;
  const deposit = openingDeposit(offer);
  if (deposit < price) throw new PaymentCapError("maxDeposit", `One unit costs ${price}, more than the deposit cap ${offer.caps.maxDeposit}`);
  await limits.assertBudget(token, price);
  // An escrow address is known for a chain before anyone deploys there (CREATE2): say so, not "reverted".
  await assertEscrowDeployed({ client: context.publicClient, escrow });
  const salt = randomSalt();
  const sessionKey = context.sessionKeys ? generatePrivateKey() : undefined;
  const authorizedSigner = sessionKey ? privateKeyToAddress(sessionKey) : zeroAddress;
  const channelId = computeChannelId({ chainId: chain.id, escrow, payer: account.address, payee: request.recipient, token, salt, authorizedSigner });
  const unsigned: ClientChannel = {
    key: offer.key,
    channelId,
    chainId: chain.id,
    escrow,
    payer: account.address,
    payee: request.recipient,
    token,
    origin: new URL(url).origin,
    salt,
    authorizedSigner,
    ...(sessionKey ? { sessionKey } : {}),
    deposit,
    cumulativeAmount: price,
    signature: null,
    spent: 0n,
    url,
    status: "open",
    closeRequestedAt: 0n,
    createdAt: Date.now(),
    updatedAt: Date.now(),
  };
  const { channel, signature } = await limits.withinDeposits(token, deposit, () =>
    limits.withinBudget(token, price, async () => {
      // The store keeps one channel per key: a finished one moves aside, so what it authorized still counts.
      const previous = await store.get(offer.key);
      if (previous) await store.put({ ...previous, key: `${previous.key}:${previous.channelId}` });
      const signed = await signChannelVoucher({ context, channel: unsigned, cumulativeAmount: price });
      return { channel: await save({ ...unsigned, signature: signed }), signature: signed };
    }),
  );
  const signer = authorizedSigner === zeroAddress ? {} : { authorizedSigner };
  if (await fundsByAuthorization({ context, offer })) {
    let signed;
    try {
      signed = await signOpenAuthorization({
        account,
        tokenDomain: await getTokenDomain({ client: context.publicClient, token }),
        escrow,
        payee: request.recipient,
        deposit,
        salt,
        authorizedSigner,
        validBefore: BigInt(Math.floor(Date.now() / 1000) + context.authorizationTtl),
      });
    } catch (error) {
      // The wallet refused (or failed) to sign: nothing can fund this channel, so it is not left open.
      await save({ ...channel, status: "closed" });
      throw error;
    }
    const { signature: authorizationSignature, ...authorization } = signed;
    return {
      channel,
      payload: { action: "open", type: "authorization", channelId, authorization, signature: authorizationSignature, cumulativeAmount: price, voucherSignature: signature, salt, ...signer },
    };
  }
  let hash: Hex;
  try {
    ({ hash } = await context.transacting(() => openChannel({ ...context.transactionOptions, escrow, payee: request.recipient, token, deposit, salt, authorizedSigner })));
  } catch (error) {
    // A failed open escrowed nothing: its deposit stops counting. One that may still be mined keeps counting.
    if (!(error instanceof TransactionOutcomeUnknownError)) await save({ ...channel, status: "closed" });
    throw error;
  }
  return {
    channel,
    payload: { action: "open", type: "hash", channelId, hash, cumulativeAmount: price, signature, salt, ...signer },
    source: `did:pkh:eip155:${chain.id}:${account.address}`,
  };
}
