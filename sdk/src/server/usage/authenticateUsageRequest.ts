import { type Address, type Client, isAddressEqual, zeroAddress } from "viem";
import { verifyTypedData } from "viem/actions";
import { isTransportFailure } from "../../crypto/isValidErc1271Signature.js";
import { RpcError } from "../../errors/RpcError.js";
import { getUsageTypedData, type UsageAuthorization } from "../../protocol/usage.js";
import type { SessionStore } from "../store/SessionStore.js";

/** Why a well-formed usage request is refused (a 401). */
export class UsageAuthenticationError extends Error {
  override name = "UsageAuthenticationError";
}

export type AuthenticateUsageRequestParameters = {
  authorization: UsageAuthorization;
  /** Where ERC-1271 wallets are asked: a client of the gate's chain. */
  client: Client;
  chainId: number;
  /** The gate's scoped store: a session key counts only through a channel of this gate. */
  store: SessionStore;
  realm: string;
  origin: string;
  /** Seconds since the epoch, now. */
  now: number;
  /** Seconds a request stays valid after it was issued. */
  maxAge: number;
  /** Seconds a request may claim to be issued in the future (clock skew). */
  maxSkew: number;
};

/**
 * Checks a parsed usage request, cheapest first: it is addressed to this seller (realm, origin), fresh,
 * signed by someone allowed to read the payer's usage (the payer, or the session key one of the payer's
 * channels here names), and the signature holds (ECDSA, ERC-1271 or ERC-6492, through viem). Resolves
 * with the payer; throws UsageAuthenticationError, or RpcError when a wallet could not be asked.
 */
export async function authenticateUsageRequest(parameters: AuthenticateUsageRequestParameters): Promise<Address> {
  const { authorization, client, chainId, store, realm, origin, now, maxAge, maxSkew } = parameters;
  const { signature, signer: claimedSigner, ...request } = authorization;
  if (request.realm !== realm) throw new UsageAuthenticationError(`The request is for realm ${JSON.stringify(request.realm)}, not this seller's`);
  if (request.origin !== origin) throw new UsageAuthenticationError(`The request is for origin ${JSON.stringify(request.origin)}, not ${origin}`);
  const age = BigInt(now) - request.issuedAt;
  if (age > BigInt(maxAge)) throw new UsageAuthenticationError(`The request expired: issued ${age} s ago, valid for ${maxAge} s`);
  if (age < BigInt(-maxSkew)) throw new UsageAuthenticationError("The request is issued in the future");

  const signer = claimedSigner ?? request.payer;
  if (!isAddressEqual(signer, request.payer)) {
    // A session key reads only the usage of the payer whose channel here delegated to it.
    const channels = await store.listChannels({ payer: request.payer });
    const delegated = channels.some(({ authorizedSigner }) => authorizedSigner !== zeroAddress && isAddressEqual(authorizedSigner, signer));
    if (!delegated) throw new UsageAuthenticationError("The signer is neither the payer nor a session key of the payer's channels here");
  }

  let valid: boolean;
  try {
    valid = await verifyTypedData(client, { address: signer, signature, ...getUsageTypedData({ chainId, request }) });
  } catch (error) {
    if (isTransportFailure(error)) throw new RpcError("Could not ask the signer's wallet", { cause: error });
    valid = false;
  }
  if (!valid) throw new UsageAuthenticationError("The signature is not the signer's");
  return request.payer;
}
