import type { Address } from "viem";
import { getCode } from "viem/actions";
import { ConfigurationError } from "../../../errors/ConfigurationError.js";
import { onChain } from "../../chain.js";
import type { GateContext } from "../../core/GateMethod.js";

/** Refuses to offer `permit2` on a chain where no contract is at `permit2` (a payer's permit could never settle there). */
export async function assertPermit2Deployed(context: GateContext, permit2: Address): Promise<void> {
  const code = await onChain("read Permit2's code", () => getCode(context.chain.publicClient, { address: permit2 }));
  if (code === undefined || code === "0x") {
    throw new ConfigurationError("credentialTypes", `charge offers permit2, but chain ${context.chainId} has no contract at its permit2Address ${permit2}`);
  }
}
