/**
 * The table of `tds` commands: the one list the parser, the usage text and the
 * dispatcher read. To add a command, write its CommandSpec in its own file
 * (name, synopsis, summary, options, run) and add it here, in the order the
 * usage should show it.
 */
import { usageText, UsageError, type CommandSpec } from './cli-args.js';
import { approve, keygen, register, standing, suspend } from './participant-commands.js';
import { contractPropose, datasetAttest, datasetPublish, offerCreate } from './catalog-commands.js';
import { contractSign, contractVerify } from './contract-commands.js';
import { jobFail, jobRun } from './job-runner.js';
import { contractRevoke, datasetWithdraw, ruleCreate, ruleList } from './action-commands.js';
import { keyRotate } from './key-rotate-command.js';
import { analysisSubmit, jobResult, nodeCommand, reviewApprove, reviewList, reviewReject } from './compute-commands.js';
import { gatewayCommand } from './gateway-command.js';
import { ledgerExport, ledgerKey, verify } from './verify-command.js';
import { settlementCommand, statementCreate, statementShow, statementVerify } from './statement-commands.js';
import { witnessCommand, witnessVkeyCommand } from './witness-command.js';
import { receiptVerify } from './receipt-command.js';
import { monitorCommand } from './monitor-command.js';
import { catalogCommand, contractsCommand, jobsCommand, offersCommand, participantsCommand } from './browse-commands.js';
import { reportCommand } from './report-command.js';

/** `tds help [command|group]`: the generated usage (it needs the table, so it is declared here). */
const help: CommandSpec = {
  name: 'help',
  synopsis: '[command|group]',
  summary: 'this text, one command\'s usage, or every command of a group (tds help dataset)',
  positionals: [0, 2],
  run: async ({ p, io }) => {
    const topic = p.positionals.join(' ');
    // Help on a word that is no command or group is a mistyped command line, not a request for the whole text.
    if (topic && !COMMANDS.some((c) => c.name === topic || c.name.startsWith(`${topic} `))) throw new UsageError(`help: no command or group "${topic}"`);
    io.out(usageFor(topic || undefined));
    return 0;
  },
};

/** Every command, in usage order. */
export const COMMANDS: readonly CommandSpec[] = [
  keygen,
  register,
  approve,
  suspend,
  participantsCommand,
  keyRotate,
  catalogCommand,
  offersCommand,
  datasetPublish,
  datasetWithdraw,
  datasetAttest,
  offerCreate,
  contractPropose,
  contractSign,
  contractVerify,
  contractsCommand,
  contractRevoke,
  ruleCreate,
  ruleList,
  standing,
  jobsCommand,
  jobRun,
  jobFail,
  analysisSubmit,
  jobResult,
  reviewList,
  reviewApprove,
  reviewReject,
  nodeCommand,
  gatewayCommand,
  verify,
  ledgerExport,
  ledgerKey,
  reportCommand,
  statementCreate,
  statementShow,
  statementVerify,
  settlementCommand,
  witnessCommand,
  witnessVkeyCommand,
  receiptVerify,
  monitorCommand,
  help,
];

/** The usage text of all commands, or of one command or group (usageText). */
export function usageFor(only?: string): string {
  return usageText(COMMANDS, only);
}
