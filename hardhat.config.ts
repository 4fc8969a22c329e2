import { createRequire } from "node:module";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatVerify from "@nomicfoundation/hardhat-verify";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatViemAssertions from "@nomicfoundation/hardhat-viem-assertions";
import { configVariable, defineConfig } from "hardhat/config";

// The compiler comes from the npm `solc` package (WebAssembly build), so that
// compiling works offline and the version is pinned by the lockfile.
const require = createRequire(import.meta.url);
const SOLC_VERSION = "0.8.30";
const solcPath = require.resolve("solc/soljson.js");

const compiler = {
  version: SOLC_VERSION,
  path: solcPath,
  settings: {
    optimizer: { enabled: true, runs: 1_000_000 },
    evmVersion: "cancun",
    viaIR: true,
  },
};

export default defineConfig({
  plugins: [hardhatMocha, hardhatNetworkHelpers, hardhatVerify, hardhatViem, hardhatViemAssertions],
  solidity: {
    profiles: {
      default: compiler,
      production: compiler,
    },
  },
  paths: {
    tests: { mocha: "test", solidity: "test/solidity" },
  },
  // Secrets and endpoints come from the environment (or `npx hardhat keystore set <NAME>`), never from
  // this file; they are read only when a task uses the network. See docs/deploy-base.md.
  networks: {
    localhost: {
      type: "http",
      chainType: "l1",
      // LOCALHOST_RPC_URL lets test/cli/deployScript.test.ts run scripts/deploy.ts against its own node.
      url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545",
    },
    baseSepolia: {
      type: "http",
      chainType: "op",
      url: configVariable("BASE_SEPOLIA_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    base: {
      type: "http",
      chainType: "op",
      url: configVariable("BASE_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
  // `npx hardhat verify --network <base|baseSepolia> <address>`: Etherscan's v2 API (one key for every
  // chain, Basescan included); Hardhat's built-in chain descriptors give Base's and Base Sepolia's explorers.
  // Blockscout and Sourcify (no key needed) stay at the plugin's defaults.
  verify: {
    etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") },
  },
});
