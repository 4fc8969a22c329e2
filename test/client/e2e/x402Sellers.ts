// Real x402 sellers for the paying client's interop tests, on the local chain and loopback only: an HTTP
// facilitator built from @x402/core's x402Facilitator and @x402/evm's exact facilitator (v2 and v1; the
// seller's test key submits transferWithAuthorization), an @x402/express v2 seller in front of it, and a
// small v1 seller written from x402 v1's wire format that settles each payment itself (@x402/evm's v1
// facilitator knows only named public networks, and the local chain is none of them).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { x402Facilitator } from "@x402/core/facilitator";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme as ExactEvmFacilitator } from "@x402/evm/exact/facilitator";
import { ExactEvmScheme as ExactEvmServer } from "@x402/evm/exact/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { type Address, createWalletClient, type Hex, http, isAddressEqual, type LocalAccount, parseAbi, publicActions } from "viem";
import type { LocalChain } from "../../../scripts/localChain.js";

export type Listening = { url: string; stop(): Promise<void> };

async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An x402 facilitator over HTTP (`/verify`, `/settle`, `/supported`) whose `account` submits the transfers. */
export async function startFacilitator({ chain, account }: { chain: LocalChain; account: LocalAccount }): Promise<Listening> {
  const client = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account }).extend(publicActions);
  const signer = toFacilitatorEvmSigner({
    address: account.address,
    readContract: (args) => client.readContract(args as never),
    verifyTypedData: (args) => client.verifyTypedData(args as never),
    writeContract: (args) => client.writeContract(args as never),
    sendTransaction: (args) => client.sendTransaction(args),
    waitForTransactionReceipt: (args) => client.waitForTransactionReceipt(args),
    getCode: (args) => client.getCode(args),
  });
  const facilitator = new x402Facilitator().register(`eip155:${chain.chain.id}`, new ExactEvmFacilitator(signer));
  const app = express();
  app.use(express.json());
  app.get("/supported", (_request, response) => void response.json(facilitator.getSupported()));
  for (const action of ["verify", "settle"] as const) {
    app.post(`/${action}`, async (request, response) => {
      const { paymentPayload, paymentRequirements } = request.body as { paymentPayload: never; paymentRequirements: never };
      try {
        response.json(await facilitator[action](paymentPayload, paymentRequirements));
      } catch (error) {
        response.status(400).json({ error: String(error) });
      }
    });
  }
  return listen(createServer(app));
}

export type X402SellerParameters = {
  chain: LocalChain;
  facilitatorUrl: string;
  payTo: Address;
  amount: bigint;
  /** The token's EIP-712 domain as the seller states it in `extra`. */
  domain: { name: string; version: string };
  maxTimeoutSeconds?: number;
};

/** An @x402/express v2 seller of GET /photo at `amount` base units of the chain's mock USDC. */
export async function startX402Seller({ chain, facilitatorUrl, payTo, amount, domain, maxTimeoutSeconds = 300 }: X402SellerParameters): Promise<Listening & { served: number }> {
  const network = `eip155:${chain.chain.id}` as const;
  const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl })).register(network, new ExactEvmServer());
  const app = express();
  const state = { served: 0 };
  app.use(
    paymentMiddleware(
      { "GET /photo": { accepts: { scheme: "exact", network, payTo, maxTimeoutSeconds, price: { amount: amount.toString(), asset: chain.token, extra: { ...domain } } }, description: "a photo", mimeType: "application/json" } },
      server,
    ),
  );
  app.get("/photo", (_request, response) => void response.json({ photo: ++state.served }));
  const listening = await listen(createServer(app));
  return {
    url: `${listening.url}/photo`,
    stop: listening.stop,
    get served() {
      return state.served;
    },
  };
}

const transferWithAuthorizationAbi = parseAbi([
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
]);

/**
 * An x402 v1 seller (402 body `{x402Version: 1, accepts}`, payment in `X-PAYMENT`, answer in
 * `X-PAYMENT-RESPONSE`) that checks `to` and `value` and submits the transfer with `account` before serving.
 */
export async function startV1Seller({ chain, account, amount, domain, network, maxTimeoutSeconds = 300 }: Omit<X402SellerParameters, "facilitatorUrl" | "payTo"> & { account: LocalAccount; network: string }): Promise<Listening & { served: number }> {
  const state = { served: 0 };
  const wallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account }).extend(publicActions);
  let origin = "";
  const requirements = () => ({
    scheme: "exact",
    network,
    maxAmountRequired: amount.toString(),
    resource: `${origin}/photo`,
    description: "a photo",
    mimeType: "application/json",
    payTo: account.address,
    maxTimeoutSeconds,
    asset: chain.token,
    extra: { ...domain },
  });
  type Authorization = { from: Address; to: Address; value: string; validAfter: string; validBefore: string; nonce: Hex };
  const settle = async (header: string): Promise<{ transaction: Hex; payer: Address }> => {
    const { payload } = JSON.parse(Buffer.from(header, "base64").toString("utf8")) as { payload: { signature: Hex; authorization: Authorization } };
    const { from, to, value, validAfter, validBefore, nonce } = payload.authorization;
    if (!isAddressEqual(to, account.address) || BigInt(value) !== amount) throw new Error("wrong transfer");
    const hash = await wallet.writeContract({ address: chain.token, abi: transferWithAuthorizationAbi, functionName: "transferWithAuthorization", args: [from, to, BigInt(value), BigInt(validAfter), BigInt(validBefore), nonce, payload.signature] });
    const receipt = await wallet.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error("transfer reverted");
    return { transaction: hash, payer: from };
  };
  const server = createServer(async (request, response) => {
    const refuse = (error: string) => {
      response.writeHead(402, { "content-type": "application/json" });
      response.end(JSON.stringify({ x402Version: 1, error, accepts: [requirements()] }));
    };
    const header = request.headers["x-payment"];
    if (typeof header !== "string") return refuse("X-PAYMENT header is required");
    let settled: { transaction: Hex; payer: Address };
    try {
      settled = await settle(header);
    } catch (error) {
      return refuse(String(error));
    }
    const receipt = Buffer.from(JSON.stringify({ success: true, network, ...settled })).toString("base64");
    response.writeHead(200, { "content-type": "application/json", "x-payment-response": receipt });
    response.end(JSON.stringify({ photo: ++state.served }));
  });
  const listening = await listen(server);
  origin = listening.url;
  return {
    url: `${listening.url}/photo`,
    stop: listening.stop,
    get served() {
      return state.served;
    },
  };
}
