// The token the issue's reference figures were measured against: OpenZeppelin 5's ERC20 with nothing added,
// compiled on its own with the optimizer at 200 runs. MockStablecoin is compiled with the escrow's settings,
// which make its transfers cheaper and so would flatter every figure that moves tokens.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Abi, Hex } from "viem";

const require = createRequire(import.meta.url);

const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
contract PlainToken is ERC20 {
  constructor(uint256 supply) ERC20("Plain USD", "PUSD") { _mint(msg.sender, supply); }
}`;

export type PlainTokenArtifact = { abi: Abi; bytecode: Hex };

type SolcOutput = {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
};

/** Compiles PlainToken with the solc-js the project pins (package.json's `solc`). */
export function compilePlainToken(): PlainTokenArtifact {
  const solc = require("solc") as { compile(input: string, callbacks: { import(path: string): { contents: string } }): string };
  const input = {
    language: "Solidity",
    sources: { "PlainToken.sol": { content: SOURCE } },
    settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
  };
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), { import: (path) => ({ contents: readFileSync(require.resolve(path), "utf8") }) }),
  ) as SolcOutput;
  const errors = output.errors?.filter((error) => error.severity === "error") ?? [];
  if (errors.length > 0) throw new Error(`PlainToken did not compile:\n${errors.map((error) => error.formattedMessage).join("\n")}`);
  const { abi, evm } = output.contracts["PlainToken.sol"]!.PlainToken!;
  return { abi, bytecode: `0x${evm.bytecode.object}` };
}
