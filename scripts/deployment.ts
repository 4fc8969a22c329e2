// The deployment logic lives in the SDK (sdk/src/deployments/deployTollgate.ts) so that `tollgate deploy`
// ships it; the Hardhat scripts import it from here and pass their freshly compiled artifacts.
export {
  CREATE2_FACTORY,
  CREATE2_FACTORY_RUNTIME,
  type ContractArtifact,
  type ContractDeployment,
  DEPLOYMENT_SALT,
  deployTollgate,
  type DeployTollgateParameters as DeployParameters,
  type DeploymentFile,
  LOCAL_CHAIN_IDS,
  MOCK_STABLECOIN_ARGS,
  predictDeploymentAddress,
  readBundledArtifact,
} from "../sdk/src/deployments/deployTollgate.js";
