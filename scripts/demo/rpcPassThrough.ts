// The demo wallet's JSON-RPC endpoint (POST /rpc): forwards to the local node, where the page's test
// account is unlocked, only what the page and a wallet pointed at it need, and only as that account. The
// node's other unlocked accounts (the deployer, the seller) and its test methods stay out of reach.
import { type Address, isAddress, isAddressEqual } from "viem";

/** Reads, and submitting a transaction someone already signed (a wallet that holds its own keys). */
const FORWARDED = new Set([
  "eth_blockNumber",
  "eth_call",
  "eth_chainId",
  "eth_estimateGas",
  "eth_feeHistory",
  "eth_gasPrice",
  "eth_getBalance",
  "eth_getBlockByHash",
  "eth_getBlockByNumber",
  "eth_getCode",
  "eth_getLogs",
  "eth_getTransactionByHash",
  "eth_getTransactionCount",
  "eth_getTransactionReceipt",
  "eth_maxPriorityFeePerGas",
  "eth_sendRawTransaction",
  "net_version",
]);

/** JSON-RPC error codes of EIP-1193 (provider errors) and JSON-RPC 2.0. */
const UNAUTHORIZED = 4100;
const UNSUPPORTED_METHOD = 4200;
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const INVALID_PARAMS = -32602;
/** A page's largest request is one typed-data signature; anything far larger is not the page's. */
const MAX_BODY_BYTES = 64 * 1024;

type RpcRequest = { jsonrpc?: string; id?: unknown; method?: unknown; params?: unknown };

export type RpcPassThroughParameters = {
  /** The local node. */
  rpcUrl: string;
  /** The one unlocked account the page may use: `eth_accounts` answers it alone. */
  account: Address;
  /** The contracts it may send transactions to or sign typed data for (the escrow and the token). */
  contracts: Address[];
  /** The gallery's own origins: a browser's request from any other site is refused. */
  origins: string[];
};

/**
 * Refused (EIP-1193 4200): the node's test methods (`hardhat_*`, `evm_*`, `anvil_*`), `eth_sign` and
 * `personal_sign` (the page signs no messages, and `eth_sign` signs a bare hash, which may be any
 * transaction's or typed data's digest: a blind signature the page never needs), and anything else not
 * listed. Refused as unauthorized (4100): sending or signing as another account, to another contract, or
 * with ether attached. Other sites open in the same browser could post here too: a request whose `Origin`
 * is not the gallery's is refused, and one that is not `application/json` (which a cross-site form or
 * `no-cors` fetch could send without a CORS preflight) as well.
 */
export function createRpcPassThrough({ rpcUrl, account, contracts, origins }: RpcPassThroughParameters): (request: Request) => Promise<Response> {
  const allowed = (address: unknown, candidates: Address[]) =>
    typeof address === "string" && isAddress(address, { strict: false }) && candidates.some((candidate) => isAddressEqual(candidate, address));

  /** Why `method` with `params` is refused ([code, message]), or undefined when the node may answer it. */
  function refusal(method: string, params: unknown[]): [number, string] | undefined {
    if (method === "eth_sendTransaction") {
      const transaction = (params[0] ?? {}) as { from?: unknown; to?: unknown; value?: unknown };
      if (!allowed(transaction.from, [account])) return [UNAUTHORIZED, "The demo wallet sends only as its own account"];
      if (!allowed(transaction.to, contracts)) return [UNAUTHORIZED, "The demo wallet sends only to the escrow and the token"];
      if (transaction.value !== undefined && BigInt(String(transaction.value)) !== 0n) return [UNAUTHORIZED, "The demo wallet sends no ether"];
      return undefined;
    }
    if (method === "eth_signTypedData_v4") {
      const typedData = (typeof params[1] === "string" ? JSON.parse(params[1]) : params[1]) as { domain?: { verifyingContract?: unknown } } | undefined;
      if (!allowed(params[0], [account])) return [UNAUTHORIZED, "The demo wallet signs only as its own account"];
      if (!allowed(typedData?.domain?.verifyingContract, contracts)) return [UNAUTHORIZED, "The demo wallet signs only for the escrow and the token"];
      return undefined;
    }
    return FORWARDED.has(method) ? undefined : [UNSUPPORTED_METHOD, `The demo wallet does not support ${method}`];
  }

  async function answer(call: RpcRequest): Promise<unknown> {
    const id = typeof call === "object" && call !== null ? (call.id ?? null) : null;
    const error = (code: number, message: string) => ({ jsonrpc: "2.0", id, error: { code, message } });
    if (id === null || typeof call.method !== "string") return error(INVALID_REQUEST, "Not a JSON-RPC request with an id");
    // The node would answer every account it holds unlocked.
    if (call.method === "eth_accounts" || call.method === "eth_requestAccounts") return { jsonrpc: "2.0", id, result: [account] };
    let refused: [number, string] | undefined;
    try {
      refused = refusal(call.method, Array.isArray(call.params) ? (call.params as unknown[]) : []);
    } catch (cause) {
      // An unparsable amount or typed-data string.
      return error(INVALID_PARAMS, `Invalid parameters: ${(cause as Error).message}`);
    }
    if (refused) return error(...refused);
    const response = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(call) });
    return response.json();
  }

  return async (request) => {
    const sender = request.headers.get("origin");
    if (sender !== null && !origins.includes(sender)) return Response.json({ jsonrpc: "2.0", id: null, error: { code: UNAUTHORIZED, message: `Requests from ${sender} are refused` } }, { status: 403 });
    if (request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() !== "application/json") {
      return Response.json({ jsonrpc: "2.0", id: null, error: { code: INVALID_REQUEST, message: "The body must be application/json" } }, { status: 415 });
    }
    const text = await request.text();
    if (text.length > MAX_BODY_BYTES) return Response.json({ jsonrpc: "2.0", id: null, error: { code: INVALID_REQUEST, message: "Request too large" } }, { status: 413 });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return Response.json({ jsonrpc: "2.0", id: null, error: { code: PARSE_ERROR, message: "Not JSON" } }, { status: 400 });
    }
    return Response.json(Array.isArray(body) ? await Promise.all(body.map((call) => answer(call as RpcRequest))) : await answer(body as RpcRequest));
  };
}
