import { type Address, isAddressEqual } from "viem";
import { assertChainId } from "../encoding/assertChainId.js";
import { assertDecimals } from "../encoding/assertDecimals.js";
import { parseAddress } from "../encoding/parseAddress.js";
import { ConfigurationError } from "../errors/ConfigurationError.js";
import type { PaymentGateParameters } from "./createPaymentGate.js";

const MIN_SECRET_BYTES = 32;

/**
 * The checks `createPaymentGate` makes before touching the chain: each refusal is a ConfigurationError
 * naming the option and the value at fault (never a secret or a key). Resolves the recipient.
 */
export function checkGateConfig(parameters: PaymentGateParameters): { recipient: Address } {
  const { chain, account, secret, store } = parameters;
  if (typeof chain?.id !== "number" || !attempt(() => assertChainId(chain.id))) {
    throw new ConfigurationError("chain", `\`chain\` must be a viem chain (from viem/chains or defineChain) with a positive integer id; got ${describe(chain?.id ?? chain)}`);
  }
  checkSecret(secret);
  checkAccount(account);
  for (const option of ["escrow", "currency"] as const) checkAddress(option, parameters[option]);
  const recipient = parameters.recipient ?? account.address;
  checkAddress("recipient", recipient);
  if (!isAddressEqual(recipient, account.address)) {
    throw new ConfigurationError(
      "recipient",
      `\`recipient\` ${recipient} differs from \`account\` ${account.address}: settlement through the recipient's payee authorization is not supported yet, so the account that settles must be the recipient (omit \`recipient\`)`,
    );
  }
  if (typeof store?.withChannel !== "function") throw new ConfigurationError("store", "`store` must be a SessionStore (createSqliteStore, createPostgresStore, createMemoryStore)");
  if (parameters.decimals !== undefined && !attempt(() => assertDecimals(parameters.decimals!))) {
    throw new ConfigurationError("decimals", `\`decimals\` must be the currency's decimals(), an integer from 0 to 255; got ${describe(parameters.decimals)}`);
  }
  for (const option of ["challengeTtl", "confirmations", "transactionTimeout", "receiptTimeout", "idempotencyKeyTtl"] as const) {
    const value = parameters[option];
    if (value !== undefined && !(typeof value === "number" && value > 0 && Number.isFinite(value))) {
      throw new ConfigurationError(option, `\`${option}\` must be a positive number; got ${describe(value)}`);
    }
  }
  if (parameters.billable !== undefined && typeof parameters.billable !== "function") {
    throw new ConfigurationError("billable", `\`billable\` must be a function of the response status (e.g. (status) => status < 400); got ${describe(parameters.billable)}`);
  }
  return { recipient };
}

function checkSecret(secret: unknown) {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret).length : secret instanceof Uint8Array ? secret.length : undefined;
  const advice = `pass at least ${MIN_SECRET_BYTES} random bytes shared by every instance, by convention from the TOLLGATE_SECRET environment variable (\`openssl rand -hex 32\`)`;
  if (bytes === undefined || bytes === 0) throw new ConfigurationError("secret", `\`secret\` is missing: ${advice}`);
  if (bytes < MIN_SECRET_BYTES) throw new ConfigurationError("secret", `\`secret\` is ${bytes} bytes, too short: ${advice}`);
}

function checkAccount(account: unknown) {
  if (typeof account === "object" && account !== null && "address" in account && "type" in account && attempt(() => parseAddress(account.address))) return;
  const got =
    typeof account !== "string"
      ? describe(account)
      : /^(0x)?[0-9a-fA-F]{64}$/.test(account)
        ? "a string that looks like a private key (not shown)"
        : `the string ${JSON.stringify(account)}`;
  throw new ConfigurationError(
    "account",
    `\`account\` must be a viem Account that can sign (e.g. privateKeyToAccount(process.env.SELLER_KEY) from viem/accounts); got ${got}`,
  );
}

function checkAddress(option: string, value: unknown) {
  try {
    parseAddress(value);
  } catch (error) {
    throw new ConfigurationError(option, `\`${option}\` must be a contract or account address (0x and 40 hex digits, checksummed if mixed-case); got ${describe(value)}`, { cause: error });
  }
}

function attempt(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "object" && value !== null ? "an object" : String(value);
}
