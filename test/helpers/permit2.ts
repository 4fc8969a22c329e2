// Uniswap's Permit2, the real contract, on a local chain. No npm package ships Permit2 alone, but
// @uniswap/v4-periphery ships Uniswap's compiled Foundry helper DeployPermit2, whose `run()` etches
// Permit2's runtime at the canonical address through Foundry's cheatcode `vm.etch`. Here that helper is
// run for real (eth_call) with a stub at the cheatcode address that reverts with its own calldata, so
// the runtime comes out of the artifact exactly, without searching its bytes; it is then put at the
// canonical address with hardhat_setCode / anvil_setCode and checked to be Permit2 by its EIP-712
// domain. Nothing of Permit2 is copied into this repository.
//
// That runtime was dumped from a Foundry deployment at another address on chain 31337, so its two
// EIP-712 immutables (the cached chain id and domain separator, which Permit2's constructor sets) are
// that deployment's: on chain 31337 it would sign under a domain naming another contract. The helper
// sets them to what the constructor computes at the canonical address on the chain at hand, the code a
// real deployment there has; no instruction of Permit2 changes.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type Address, BaseError, decodeFunctionData, encodeFunctionData, getAddress, type Hex, hashDomain, keccak256, parseAbi, slice, stringToHex } from "viem";
import { PERMIT2_ADDRESS, permit2Abi } from "../../sdk/src/authorization/permit2Abi.js";
import type { LocalChain } from "../../scripts/localChain.js";

const ARTIFACT = join(dirname(createRequire(import.meta.url).resolve("@uniswap/v4-periphery/package.json")), "foundry-out/DeployPermit2.sol/DeployPermit2.json");

/** forge-std's cheatcode address: `address(uint160(uint256(keccak256("hevm cheat code"))))`. */
const CHEATCODES = getAddress(slice(keccak256(stringToHex("hevm cheat code")), 12));
/** Where the helper runs for the extraction (any empty account). */
const SCRATCH: Address = "0x00000000000000000000000000000000deadbeef";
/** CALLDATASIZE 0 0 CALLDATACOPY CALLDATASIZE 0 REVERT: reverts with the call's own calldata. */
const ECHO_REVERT: Hex = "0x366000600037366000fd";

const deployPermit2Abi = parseAbi(["function run() returns (address)", "function etch(address target, bytes code)"]);

/** Permit2's runtime bytecode as DeployPermit2 would etch it, read from the installed artifact (memoized). */
let runtime: Promise<Hex> | undefined;
export function permit2Runtime(chain: LocalChain): Promise<Hex> {
  runtime ??= extractRuntime(chain);
  return runtime;
}

async function extractRuntime(chain: LocalChain): Promise<Hex> {
  const artifact = JSON.parse(await readFile(ARTIFACT, "utf8")) as { deployedBytecode: { object: Hex } };
  await setCode(chain, SCRATCH, artifact.deployedBytecode.object);
  await setCode(chain, CHEATCODES, ECHO_REVERT);
  try {
    await chain.publicClient.call({ to: SCRATCH, data: encodeFunctionData({ abi: deployPermit2Abi, functionName: "run" }) });
  } catch (error) {
    const data = revertData(error);
    const { functionName, args } = decodeFunctionData({ abi: deployPermit2Abi, data });
    if (functionName !== "etch" || getAddress(args[0]) !== PERMIT2_ADDRESS) throw new Error(`DeployPermit2.run() did not etch Permit2's address: ${functionName}`);
    return args[1];
  } finally {
    await setCode(chain, SCRATCH, "0x");
    await setCode(chain, CHEATCODES, "0x");
  }
  throw new Error("DeployPermit2.run() returned without calling vm.etch");
}

/**
 * Puts Permit2 at its canonical address on `chain` and proves it is Permit2: its `DOMAIN_SEPARATOR()`
 * is the EIP-712 domain {name "Permit2", chainId, verifyingContract} computed here. Resolves with the address.
 */
export async function installPermit2(chain: LocalChain): Promise<Address> {
  const expected = hashDomain({ domain: { name: "Permit2", chainId: BigInt(chain.chain.id), verifyingContract: PERMIT2_ADDRESS }, types: { EIP712Domain: [{ name: "name", type: "string" }, { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }] } });
  await setCode(chain, PERMIT2_ADDRESS, withDomainImmutables(await permit2Runtime(chain), chain.chain.id, expected));
  const separator = await chain.publicClient.readContract({ address: PERMIT2_ADDRESS, abi: permit2Abi, functionName: "DOMAIN_SEPARATOR" });
  if (separator !== expected) throw new Error(`The code at ${PERMIT2_ADDRESS} reports the domain separator ${separator}, not Permit2's ${expected}`);
  return PERMIT2_ADDRESS;
}

/**
 * `runtime` with Permit2's EIP712 immutables set to `chainId` and `separator`. They are the operands of
 * `DOMAIN_SEPARATOR()`'s `CHAINID PUSH32 <cached chain id> SUB PUSH2 <jump> JUMPI PUSH32 <cached separator>`;
 * the pattern must occur exactly once.
 */
export function withDomainImmutables(runtime: Hex, chainId: number, separator: Hex): Hex {
  const pattern = /467f([0-9a-f]{64})0361[0-9a-f]{4}577f([0-9a-f]{64})/g;
  const matches = [...runtime.matchAll(pattern)].filter((match) => match.index % 2 === 0);
  if (matches.length !== 1) throw new Error(`Permit2's domain immutables are not where expected (${matches.length} matches)`);
  const [match] = matches as [RegExpExecArray];
  const patched = match[0].replace(match[1]!, chainId.toString(16).padStart(64, "0")).replace(match[2]!, separator.slice(2));
  return `${runtime.slice(0, match.index)}${patched}${runtime.slice(match.index + match[0].length)}` as Hex;
}

/** Removes Permit2 from `chain` (a chain without it). */
export function uninstallPermit2(chain: LocalChain): Promise<void> {
  return setCode(chain, PERMIT2_ADDRESS, "0x");
}

async function setCode(chain: LocalChain, address: Address, code: Hex): Promise<void> {
  const method = chain.chain.name.startsWith("anvil") ? "anvil_setCode" : "hardhat_setCode";
  await chain.publicClient.request({ method: method as never, params: [address, code] as never });
}

/** The revert data of a failed eth_call, wherever viem's error chain keeps it. */
function revertData(error: unknown): Hex {
  let data: unknown;
  if (error instanceof BaseError) error.walk((cause) => ((data ??= (cause as { data?: unknown }).data), false));
  if (typeof data === "object" && data !== null && "data" in data) data = (data as { data: unknown }).data;
  if (typeof data !== "string" || !data.startsWith("0x")) throw new Error("DeployPermit2.run() reverted without data", { cause: error });
  return data as Hex;
}
