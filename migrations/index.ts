/** Every migration, in order. Listed explicitly so the build and the tests run the same set. */
import { CreateParticipants1764000000000 } from './1764000000000-CreateParticipants.js';
import { CreateAgreements1764000001000 } from './1764000001000-CreateAgreements.js';
import { CreateLedger1764000002000 } from './1764000002000-CreateLedger.js';
import { AddComputeToData1765010000000 } from './1765010000000-AddComputeToData.js';
import { CreateLedgerPartyIndex1765030000000 } from './1765030000000-CreateLedgerPartyIndex.js';
import { CreateStatements1765040000000 } from './1765040000000-CreateStatements.js';
import { AddContributionEvidence1765240000001 } from './1765240000001-AddContributionEvidence.js';
import { CreateLedgerCosignatures1765030000001 } from './1765030000001-CreateLedgerCosignatures.js';
import { CreateContractListIndexes1765210000000 } from './1765210000000-CreateContractListIndexes.js';
import { RuleListPrecision1765270000000 } from './1765270000000-RuleListPrecision.js';
import { ContractDatasetWithdrawn1765280000000 } from './1765280000000-ContractDatasetWithdrawn.js';
import { ContractPartiesActive1765290000000 } from './1765290000000-ContractPartiesActive.js';
import { AddJobFailureAndExpiry1765230000000 } from './1765230000000-AddJobFailureAndExpiry.js';
import { CreateReciprocityReceived1765250000000 } from './1765250000000-CreateReciprocityReceived.js';
import { BindJobsToContractParties1765260000000 } from './1765260000000-BindJobsToContractParties.js';

export const migrations = [CreateParticipants1764000000000, CreateAgreements1764000001000, CreateLedger1764000002000, AddComputeToData1765010000000, CreateLedgerPartyIndex1765030000000, CreateLedgerCosignatures1765030000001, CreateStatements1765040000000, CreateContractListIndexes1765210000000, AddJobFailureAndExpiry1765230000000, AddContributionEvidence1765240000001, CreateReciprocityReceived1765250000000, BindJobsToContractParties1765260000000, RuleListPrecision1765270000000, ContractDatasetWithdrawn1765280000000, ContractPartiesActive1765290000000];
